"""The synthetic London days: valid, reproducible, and with every advertised feature."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from data.generate import IMPOSSIBLE_KINDS, FieldDataset, generate_day, main
from data.london import UNSTAFFED_SKILL
from optimiser.calendars import BusinessCalendar
from optimiser.schema import PlanRequest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def day() -> FieldDataset:
    return generate_day(25, 150, seed=3)


@pytest.fixture(scope="module")
def week() -> FieldDataset:
    return generate_day(12, 120, days=3, seed=5)


def _local_clock(value: datetime) -> str:
    from zoneinfo import ZoneInfo
    return value.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")


def _qualified(request: PlanRequest, appointment_id: str) -> list[str]:
    """Technicians with the skills (raised by the contract minimum) and the territory."""
    entitlements = {e.id: e for e in request.entitlements}
    appointment = next(a for a in request.appointments if a.id == appointment_id)
    floor = 1
    if appointment.entitlement_id:
        floor = entitlements[appointment.entitlement_id].min_skill_level or 1
    return [
        t.id for t in request.technicians
        if (not t.territories or appointment.territory in t.territories)
        and all(t.skills.get(s, 0) >= max(level, floor)
                for s, level in appointment.required_skills.items())
    ]


def test_request_round_trips_through_the_exchange_format(day: FieldDataset) -> None:
    text = json.dumps(day.request_json())
    parsed = PlanRequest.model_validate_json(text)
    assert parsed == day.request
    assert "+00:00" in text and '"Z"' not in text  # November in London: offset written out


def test_same_seed_same_bytes_other_seed_other_day() -> None:
    first = generate_day(8, 40, seed=11)
    again = generate_day(8, 40, seed=11)
    other = generate_day(8, 40, seed=12)
    assert json.dumps(first.request_json()) == json.dumps(again.request_json())
    assert first.metadata_json() == again.metadata_json()
    assert json.dumps(first.request_json()) != json.dumps(other.request_json())


def test_technicians_have_skills_with_levels_territories_and_london_homes(
        day: FieldDataset) -> None:
    techs = day.request.technicians
    assert len(techs) == 25
    levels = {level for t in techs for level in t.skills.values()}
    assert {1, 2, 3, 4} <= levels
    assert {"hvac", "electrical", "plumbing", "fibre", "security"} <= \
        {s for t in techs for s in t.skills}
    assert {"north", "south", "east", "west", "central"} <= \
        {z for t in techs for z in t.territories}
    assert any(not t.territories for t in techs)  # floaters exist
    for tech in techs:
        assert 51.25 < tech.start_location.lat < 51.72
        assert -0.55 < tech.start_location.lon < 0.35
    assert any(t.max_overtime_min > 0 for t in techs)
    assert any(t.max_overtime_min == 0 for t in techs)
    names = {(i.name, i.email) for i in day.technicians.values()}
    assert len({email for _, email in names}) == 25


def test_shifts_are_eight_to_five_local_with_a_lunch_break(week: FieldDataset) -> None:
    for tech in week.request.technicians:
        assert len(tech.shifts) == 3
        assert [s.start.date() for s in tech.shifts] == \
            [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
        for shift in tech.shifts:
            assert (_local_clock(shift.start), _local_clock(shift.end)) == ("08:00", "17:00")
            (lunch,) = shift.breaks
            assert (_local_clock(lunch.earliest_start), _local_clock(lunch.latest_end),
                    lunch.duration_min) == ("12:00", "14:00", 30)


def test_summer_dates_keep_local_times_with_the_bst_offset() -> None:
    summer = generate_day(3, 12, seed=1, start_date=date(2026, 6, 6))  # a Saturday
    shift = summer.request.technicians[0].shifts[0]
    assert shift.start.isoformat() == "2026-06-08T08:00:00+01:00"  # Monday, weekend skipped
    assert "+01:00" in json.dumps(summer.request_json())


def test_contract_tiers_follow_their_cover_rules() -> None:
    dataset = generate_day(40, 400, seed=9)
    by_tier: dict[str, list] = {}
    entitlements = {e.id: e for e in dataset.request.entitlements}
    start = datetime.fromisoformat("2026-11-23T00:00:00+00:00")
    for appointment in dataset.request.appointments:
        tier = dataset.appointments[appointment.id].contract_tier
        if appointment.entitlement_id is None:
            assert tier == "none"
            continue
        by_tier.setdefault(tier, []).append(entitlements[appointment.entitlement_id])
    assert set(by_tier) == {"gold", "silver", "bronze"}
    gold_coverages = set()
    for e in by_tier["gold"]:
        assert e.min_skill_level == 3 and e.onsite
        gold_coverages.add(None if e.coverage is None else
                           (tuple(e.coverage[0].days), e.coverage[0].from_, e.coverage[0].to))
    assert gold_coverages == {None, (("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                                     "07:00", "22:00")}
    for e in by_tier["silver"]:
        assert e.min_skill_level == 2
        assert (e.coverage[0].days, e.coverage[0].from_, e.coverage[0].to) == \
            (["mon", "tue", "wed", "thu", "fri"], "08:00", "18:00")
    for e in by_tier["bronze"]:
        assert e.min_skill_level is None
        assert (e.coverage[0].from_, e.coverage[0].to) == ("09:00", "17:00")
        assert e.timezone == "Europe/London"
    assert any(not e.onsite for e in by_tier["bronze"])
    assert any(e.valid_until < start for e in by_tier["bronze"])
    assert all(e.valid_until > start + timedelta(days=30)
               for tier in ("gold", "silver") for e in by_tier[tier])


def test_appointments_have_realistic_windows_durations_priorities_and_slas(
        day: FieldDataset) -> None:
    appointments = day.request.appointments
    shapes = Counter()
    for a in appointments:
        assert 30 <= a.duration_min <= 120
        assert a.territory in {"north", "south", "east", "west", "central"}
        spans = tuple((_local_clock(w.start), _local_clock(w.end)) for w in a.windows)
        if a.priority == 1:
            shapes["p1"] += 1
        elif spans == (("08:00", "12:00"),):
            shapes["am"] += 1
        elif spans == (("12:00", "16:00"),):
            shapes["pm"] += 1
        elif len(spans) == 1 and (datetime.strptime(spans[0][1], "%H:%M")
                                  - datetime.strptime(spans[0][0], "%H:%M")).seconds == 7200:
            shapes["two_hour"] += 1
        elif len(spans) == 2:
            shapes["two_windows"] += 1
        elif not spans:
            shapes["none"] += 1
    assert {"am", "pm", "two_hour", "two_windows"} <= set(shapes)
    priorities = Counter(a.priority for a in appointments)
    assert priorities[4] + priorities[5] > 2 * (priorities[1] + priorities[2]) > 0
    for a in appointments:
        reported = datetime.fromisoformat(day.appointments[a.id].reported_at)
        due_in = a.sla_due - reported
        if a.priority == 1:
            assert due_in == timedelta(hours=4)
            assert a.windows[0].start >= reported
        if a.priority == 5:
            assert due_in >= timedelta(days=3)


def test_multi_day_visits_are_spread_over_the_days_some_with_a_window_on_each(
        week: FieldDataset) -> None:
    dates = Counter(a.windows[0].start.date() for a in week.request.appointments if a.windows)
    assert len(dates) == 3
    assert any(len(a.windows) == 2 and a.windows[0].start.date() != a.windows[1].start.date()
               for a in week.request.appointments)


def test_designed_impossible_visits_are_impossible_for_the_stated_reason(
        day: FieldDataset) -> None:
    request = day.request
    entitlements = {e.id: e for e in request.entitlements}
    kinds = Counter(info.designed_as for info in day.appointments.values())
    for kind in IMPOSSIBLE_KINDS:
        assert kinds[kind] >= 2
    start = request.technicians[0].shifts[0].start
    for appointment in request.appointments:
        kind = day.appointments[appointment.id].designed_as
        if kind == "unstaffed_skill":
            assert UNSTAFFED_SKILL in appointment.required_skills
            assert not any(UNSTAFFED_SKILL in t.skills for t in request.technicians)
        elif kind == "expired_contract":
            assert entitlements[appointment.entitlement_id].valid_until < start
        elif kind == "no_onsite_cover":
            assert entitlements[appointment.entitlement_id].onsite is False
        else:  # every other visit has someone who could do it
            assert _qualified(request, appointment.id), appointment.id


def test_pinned_preferred_and_excluded_technicians_are_sensible(day: FieldDataset) -> None:
    request = day.request
    pinned = [a for a in request.appointments if a.pinned_technician]
    assert pinned and all(day.appointments[a.id].designed_as == "pinned" for a in pinned)
    for a in pinned:
        assert a.pinned_technician in _qualified(request, a.id)
        assert a.pinned_technician not in a.excluded_technicians
    assert any(a.preferred_technicians for a in request.appointments)
    for a in request.appointments:
        for tech_id in a.preferred_technicians:
            assert tech_id in _qualified(request, a.id)


def test_windows_meet_contract_cover_for_most_visits(day: FieldDataset) -> None:
    """Contracts clip the booking slots (bronze opens 09:00) but rarely empty them."""
    entitlements = {e.id: e for e in day.request.entitlements}
    open_somewhere = 0
    with_contract = [a for a in day.request.appointments if a.entitlement_id and a.windows]
    for a in with_contract:
        e = entitlements[a.entitlement_id]
        calendar = BusinessCalendar.from_coverage(e.coverage, e.timezone)
        if any(calendar.intervals(w.start, w.end) for w in a.windows):
            open_somewhere += 1
    assert open_somewhere >= 0.95 * len(with_contract)


def test_metadata_describes_every_visit_and_technician(day: FieldDataset) -> None:
    assert set(day.appointments) == {a.id for a in day.request.appointments}
    assert set(day.technicians) == {t.id for t in day.request.technicians}
    info = next(iter(day.appointments.values()))
    assert info.customer and info.asset and info.summary and "London" in info.address
    assert info.contract_tier in {"gold", "silver", "bronze", "none"}


def test_cli_writes_loadable_files_and_rejects_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["--technicians", "4", "--appointments", "15", "--seed", "2",
                 "--out", str(tmp_path)]) == 0
    loaded = FieldDataset.load(tmp_path)
    assert loaded.request == generate_day(4, 15, seed=2).request
    with pytest.raises(SystemExit) as exit_info:
        main(["--technicians", "0", "--appointments", "5", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "n_technicians" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("folder", "args"), [
    ("demo", (40, 260, 1, 7)),
    ("samples/day-5x20", (5, 20, 1, 1)),
    ("samples/day-25x150", (25, 150, 1, 1)),
])
def test_committed_data_sets_are_what_the_generator_makes(folder: str, args) -> None:
    directory = REPO / "data" / folder
    technicians, appointments, days, seed = args
    expected = generate_day(technicians, appointments, days=days, seed=seed)
    written = json.loads((directory / "request.json").read_text(encoding="utf-8"))
    assert written == expected.request_json()
    assert json.loads((directory / "metadata.json").read_text(encoding="utf-8")) == \
        expected.metadata_json()
