"""Pure tier-limit arithmetic (no database)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from api.tickets import tiers
from optimiser.calendars import BusinessCalendar, WeeklyPeriod

PARIS = ZoneInfo("Europe/Paris")
CAL = BusinessCalendar(
    timezone="Europe/Paris", periods=tuple(WeeklyPeriod(d, (8, 0), (18, 0)) for d in range(5))
)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_next_tier_stops_at_the_vendor():
    assert tiers.next_tier("L1") == "L2"
    assert tiers.next_tier("L3") == "L4"
    assert tiers.next_tier("L4") is None


def test_l1_limit_counts_business_minutes_over_the_weekend():
    # Fri 6 Mar 2026 17:55: 5 minutes Friday, 10 more from Monday 08:00 -> 08:10.
    entered = paris(2026, 3, 6, 17, 55)
    limits = tiers.DEFAULT_TIER_LIMITS
    assert (
        tiers.due_tier_moves(
            calendar=CAL,
            tier="L1",
            entered_at=entered,
            paused_min=0,
            limits=limits,
            now=paris(2026, 3, 9, 8, 10),
        )
        == []
    )
    moves = tiers.due_tier_moves(
        calendar=CAL,
        tier="L1",
        entered_at=entered,
        paused_min=0,
        limits=limits,
        now=paris(2026, 3, 9, 8, 11),
    )
    assert [(m.from_tier, m.to_tier, m.at) for m in moves] == [
        ("L1", "L2", paris(2026, 3, 9, 8, 10))
    ]


def test_catch_up_over_several_tiers_from_the_instants_the_limits_ran_out():
    entered = paris(2026, 3, 9, 9, 0)
    moves = tiers.due_tier_moves(
        calendar=CAL,
        tier="L1",
        entered_at=entered,
        paused_min=0,
        limits=tiers.DEFAULT_TIER_LIMITS,
        now=paris(2026, 3, 9, 17, 0),
    )
    # L1 ran out 09:15, L2 (60) at 10:15, L3 (240) at 14:15; L4 has no limit.
    assert [(m.to_tier, m.at) for m in moves] == [
        ("L2", paris(2026, 3, 9, 9, 15)),
        ("L3", paris(2026, 3, 9, 10, 15)),
        ("L4", paris(2026, 3, 9, 14, 15)),
    ]


def test_paused_minutes_extend_the_limit_and_a_missing_limit_never_escalates():
    entered = paris(2026, 3, 9, 9, 0)
    common = {"calendar": CAL, "tier": "L1", "entered_at": entered, "now": paris(2026, 3, 9, 9, 40)}
    assert tiers.due_tier_moves(paused_min=30, limits=tiers.DEFAULT_TIER_LIMITS, **common) == []
    assert tiers.due_tier_moves(paused_min=0, limits={"L1": None}, **common) == []
