"""Pure SLA clock arithmetic (no database): hand-computed instants on a Mon-Fri 08-18 contract."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from api.tickets import sla
from api.tickets.sla import ClockKind, Stage
from optimiser.calendars import BusinessCalendar, WeeklyPeriod

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")


def weekdays_8_18(tz: str) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=tz, periods=tuple(WeeklyPeriod(d, (8, 0), (18, 0)) for d in range(5))
    )


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_due_at_skips_the_weekend_in_local_time():
    cal = weekdays_8_18("America/New_York")
    # Fri 20 Nov 2026 16:30 EST: 90 min left on Friday, 150 more from Monday 08:00.
    due = sla.due_at(calendar=cal, start=ny(2026, 11, 20, 16, 30), minutes=240)
    assert due == ny(2026, 11, 23, 10, 30)
    assert due.astimezone(UTC) == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def test_due_at_across_the_autumn_dst_weekend():
    cal = weekdays_8_18("America/New_York")
    # Fri 30 Oct 2026 17:00 EDT (UTC-4); clocks go back Sun 1 Nov; Mon 08:00 is EST (UTC-5).
    due = sla.due_at(calendar=cal, start=ny(2026, 10, 30, 17, 0), minutes=120)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_due_at_honours_explicit_pauses():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)  # Monday
    pause = (datetime(2026, 3, 2, 10, 0, tzinfo=PARIS), datetime(2026, 3, 2, 11, 30, tzinfo=PARIS))
    due = sla.due_at(calendar=cal, start=start, minutes=180, pauses=[pause])
    assert due == datetime(2026, 3, 2, 13, 30, tzinfo=PARIS)


def test_pause_over_a_weekend_pushes_only_business_minutes():
    cal = weekdays_8_18("America/New_York")
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=ny(2026, 11, 19, 9, 0), target_min=960
    )
    # Thu 09:00 + 960 = Thu 9h (540) + Fri 7h (420) -> Fri 15:00.
    assert clock.due_at == ny(2026, 11, 20, 15, 0)
    # Pausing when already late (Fri 17:00) breaches instead of pausing.
    assert sla.pause(clock, at=ny(2026, 11, 20, 17, 0)) == ["sla_breached"]
    assert clock.stage == Stage.breached and clock.paused_since is None


def test_pause_and_resume_move_the_due_time():
    cal = weekdays_8_18("America/New_York")
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=ny(2026, 11, 19, 9, 0), target_min=960
    )
    sla.pause(clock, at=ny(2026, 11, 20, 14, 0))  # Fri 14:00
    assert clock.stage == Stage.paused
    # Paused Fri 14:00 -> Mon 10:00: 4h Friday + 2h Monday = 360 business minutes.
    sla.resume(clock, calendar=cal, at=ny(2026, 11, 23, 10, 0))
    assert clock.stage == Stage.running
    assert clock.paused_total_min == pytest.approx(360)
    # Old due Fri 15:00 + 360 business minutes: 3h Friday, 3h Monday -> Mon 11:00.
    assert clock.due_at == ny(2026, 11, 23, 11, 0)


def test_complete_in_time_is_met_and_late_is_breached_once():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    on_time = sla.start_clock(
        kind=ClockKind.response, calendar=cal, started_at=start, target_min=30
    )
    assert sla.complete(on_time, calendar=cal, at=start.replace(minute=30)) == []
    assert on_time.stage == Stage.met
    late = sla.start_clock(kind=ClockKind.response, calendar=cal, started_at=start, target_min=30)
    assert sla.complete(late, calendar=cal, at=start.replace(minute=31)) == ["sla_breached"]
    assert late.stage == Stage.breached
    assert sla.complete(late, calendar=cal, at=start.replace(minute=40)) == []


def test_evaluate_emits_each_level_once():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=start, target_min=120
    )
    assert sla.evaluate(clock, calendar=cal, now=start.replace(minute=59)) == []
    assert sla.evaluate(clock, calendar=cal, now=start.replace(hour=10)) == ["sla_warning_50"]
    assert sla.evaluate(clock, calendar=cal, now=start.replace(hour=10)) == []
    assert sla.evaluate(clock, calendar=cal, now=start.replace(hour=10, minute=30)) == [
        "sla_warning_75"
    ]
    assert sla.evaluate(clock, calendar=cal, now=start.replace(hour=11)) == []  # due, not past
    assert sla.evaluate(clock, calendar=cal, now=start.replace(hour=11, minute=1)) == [
        "sla_breached"
    ]
    assert clock.stage == Stage.breached
    assert sla.evaluate(clock, calendar=cal, now=start.replace(hour=12)) == []


def test_evaluate_catches_up_missed_levels_in_order():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    clock = sla.start_clock(kind=ClockKind.response, calendar=cal, started_at=start, target_min=30)
    events = sla.evaluate(clock, calendar=cal, now=start.replace(hour=15))
    assert events == ["sla_warning_50", "sla_warning_75", "sla_breached"]


def test_a_paused_clock_does_not_progress_towards_warnings():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=start, target_min=120
    )
    sla.pause(clock, at=start.replace(minute=50))
    assert sla.evaluate(clock, calendar=cal, now=datetime(2026, 3, 4, 9, 0, tzinfo=PARIS)) == []
    assert sla.elapsed_business_min(clock, cal, datetime(2026, 3, 9, tzinfo=PARIS)) == 50


def test_evaluate_at_the_weekend_uses_business_time():
    cal = weekdays_8_18("America/New_York")
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=ny(2026, 11, 20, 15, 0), target_min=600
    )
    # Fri 15:00-18:00 is 180 of 600 minutes (30%); nothing moves over the weekend.
    assert sla.evaluate(clock, calendar=cal, now=ny(2026, 11, 22, 12, 0)) == []
    # Mon 10:00: 180 + 120 = 300 = 50%.
    assert sla.evaluate(clock, calendar=cal, now=ny(2026, 11, 23, 10, 0)) == ["sla_warning_50"]


def test_reopen_counts_the_resolved_time_as_paused():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=start, target_min=240
    )
    sla.complete(clock, calendar=cal, at=start.replace(hour=10))
    assert clock.stage == Stage.met
    sla.reopen(clock, calendar=cal, at=start.replace(hour=12))
    assert clock.stage == Stage.running and clock.met_at is None
    # Due 13:00 pushed by the 120 minutes it sat resolved -> 15:00.
    assert clock.due_at == start.replace(hour=15)


def test_retarget_keeps_the_start_and_pauses():
    cal = weekdays_8_18("Europe/Paris")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    clock = sla.start_clock(
        kind=ClockKind.resolution, calendar=cal, started_at=start, target_min=60
    )
    clock.paused_total_min = 30
    sla.retarget(clock, calendar=cal, target_min=120)
    assert clock.due_at == start.replace(hour=11, minute=30)


def test_calendar_snapshot_round_trips():
    cal = BusinessCalendar.from_coverage(
        None, "Europe/Paris", holidays=[datetime(2026, 5, 1).date()]
    )
    assert sla.calendar_from_json(sla.calendar_to_json(cal)) == cal
    weekly = weekdays_8_18("America/New_York")
    assert sla.calendar_from_json(sla.calendar_to_json(weekly)) == weekly


def test_default_policy_has_every_target_for_every_priority():
    for priority in range(1, 6):
        for kind in ClockKind:
            assert sla.DEFAULT_SLA_POLICY.target_min(priority, kind) > 0
