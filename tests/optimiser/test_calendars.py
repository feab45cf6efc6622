"""Business hours: weekly coverage to UTC intervals, DST days, holidays, business-minute maths.

Expected values are written out by hand in UTC so that a mistake in the
calendar cannot be reproduced by the test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from optimiser.calendars import BusinessCalendar, intersect_intervals, merge_intervals
from tests.optimiser.conftest import coverage

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hours(intervals) -> list[float]:
    return [(e - s).total_seconds() / 3600 for s, e in intervals]


def office(tz: str = "Europe/London", holidays=()) -> BusinessCalendar:
    """Mon-Fri 08:00-18:00 local."""
    return BusinessCalendar.from_coverage([coverage(WEEKDAYS, "08:00", "18:00")], tz, holidays)


# ------------------------------------------------------------------ intervals


def test_weekly_coverage_in_summer_time_london():
    # June: BST (UTC+1), so 08:00-18:00 local is 07:00-17:00 UTC.
    got = office().intervals(utc(2026, 6, 1), utc(2026, 6, 8))
    assert got == [(utc(2026, 6, d, 7), utc(2026, 6, d, 17)) for d in range(1, 6)]


def test_weekly_coverage_in_a_zone_without_dst_queried_with_another_offset():
    tokyo = BusinessCalendar.from_coverage([coverage(["mon"], "09:00", "17:00")], "Asia/Tokyo")
    new_york_time = timezone(timedelta(hours=-5))
    # Sunday 2026-11-22 10:00 in UTC-5 = 15:00 UTC = Monday 00:00 in Tokyo.
    got = tokyo.intervals(datetime(2026, 11, 22, 10, tzinfo=new_york_time),
                          utc(2026, 11, 24))
    assert got == [(utc(2026, 11, 23, 0), utc(2026, 11, 23, 8))]
    assert all(s.tzinfo is UTC for s, _ in got)


def test_intervals_are_clipped_to_the_query():
    got = office().intervals(utc(2026, 11, 23, 12), utc(2026, 11, 24, 9))
    assert got == [(utc(2026, 11, 23, 12), utc(2026, 11, 23, 18)),
                   (utc(2026, 11, 24, 8), utc(2026, 11, 24, 9))]
    assert office().intervals(utc(2026, 11, 24), utc(2026, 11, 23)) == []


def test_overnight_period_reaches_into_the_next_day_even_from_a_query_starting_there():
    nights = BusinessCalendar.from_coverage([coverage(["fri"], "22:00", "06:00")], "UTC")
    assert nights.intervals(utc(2026, 11, 28, 3), utc(2026, 11, 29)) == \
        [(utc(2026, 11, 28, 3), utc(2026, 11, 28, 6))]
    assert hours(nights.intervals(utc(2026, 11, 27), utc(2026, 11, 29))) == [8]


def test_2400_means_end_of_day_and_touching_periods_merge():
    cal = BusinessCalendar.from_coverage(
        [coverage(["mon"], "18:00", "24:00"), coverage(["tue"], "00:00", "06:00")], "UTC")
    assert cal.intervals(utc(2026, 11, 23), utc(2026, 11, 25)) == \
        [(utc(2026, 11, 23, 18), utc(2026, 11, 24, 6))]
    whole = BusinessCalendar.from_coverage([coverage(["sat"], "00:00", "24:00")], "UTC")
    assert hours(whole.intervals(utc(2026, 11, 27), utc(2026, 12, 1))) == [24]


def test_no_coverage_means_always_open():
    always = BusinessCalendar.from_coverage(None, "Europe/London")
    assert always.always_open
    assert always.intervals(utc(2026, 11, 23), utc(2026, 11, 30)) == \
        [(utc(2026, 11, 23), utc(2026, 11, 30))]


# ------------------------------------------------------------------- holidays


def test_holiday_closes_a_weekday():
    cal = office(holidays=[date(2026, 11, 25)])
    got = cal.intervals(utc(2026, 11, 23), utc(2026, 11, 28))
    assert [s.day for s, _ in got] == [23, 24, 26, 27]


def test_holiday_on_an_always_open_calendar_closes_the_local_day():
    cal = BusinessCalendar.from_coverage(None, "Europe/Paris", [date(2026, 5, 1)])
    assert not cal.always_open
    # Paris is UTC+2 in May: the holiday is 2026-04-30 22:00 to 2026-05-01 22:00 UTC.
    assert cal.intervals(utc(2026, 4, 30), utc(2026, 5, 3)) == \
        [(utc(2026, 4, 30), utc(2026, 4, 30, 22)), (utc(2026, 5, 1, 22), utc(2026, 5, 3))]


def test_holiday_closes_the_whole_local_day_of_overnight_periods_too():
    # Nights every weekday 22:00-06:00; Wednesday 2026-11-25 is a holiday.
    nights = BusinessCalendar.from_coverage([coverage(WEEKDAYS, "22:00", "06:00")], "UTC",
                                            [date(2026, 11, 25)])
    got = nights.intervals(utc(2026, 11, 24, 12), utc(2026, 11, 26, 12))
    # Tuesday night stops at midnight; Wednesday night starts at Thursday midnight.
    assert got == [(utc(2026, 11, 24, 22), utc(2026, 11, 25)),
                   (utc(2026, 11, 26), utc(2026, 11, 26, 6))]


# ------------------------------------------------------------------------ DST


@pytest.mark.parametrize(("tz", "day", "length_h"), [
    ("Europe/London", date(2026, 3, 29), 23),     # spring forward 01:00 -> 02:00
    ("Europe/London", date(2026, 10, 25), 25),    # fall back 02:00 -> 01:00
    ("America/New_York", date(2026, 3, 8), 23),   # spring forward 02:00 -> 03:00
    ("America/New_York", date(2026, 11, 1), 25),  # fall back 02:00 -> 01:00
])
def test_a_whole_local_day_on_a_dst_change_day(tz, day, length_h):
    name = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    cal = BusinessCalendar.from_coverage([coverage([name], "00:00", "24:00")], tz)
    got = cal.intervals(utc(day.year, day.month, day.day) - timedelta(days=1),
                        utc(day.year, day.month, day.day) + timedelta(days=2))
    assert hours(got) == [length_h]
    assert cal.business_minutes_between(*got[0]) == length_h * 60


@pytest.mark.parametrize(("tz", "day", "opens", "closes"), [
    # Office hours stay 08:00-18:00 local on both sides of each change.
    ("Europe/London", date(2026, 3, 29), utc(2026, 3, 29, 7), utc(2026, 3, 29, 17)),
    ("Europe/London", date(2026, 10, 25), utc(2026, 10, 25, 8), utc(2026, 10, 25, 18)),
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 12), utc(2026, 3, 8, 22)),
    ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 13), utc(2026, 11, 1, 23)),
])
def test_office_hours_on_dst_change_days_stay_local(tz, day, opens, closes):
    cal = BusinessCalendar.from_coverage([coverage(["sun"], "08:00", "18:00")], tz)
    assert cal.intervals(opens - timedelta(hours=12), closes + timedelta(hours=12)) == \
        [(opens, closes)]


def test_night_period_across_spring_forward_and_fall_back_london():
    nights = BusinessCalendar.from_coverage([coverage(["sat"], "22:00", "06:00")],
                                            "Europe/London")
    # 2026-03-28 22:00 GMT to 2026-03-29 06:00 BST = 05:00 UTC: 7 hours.
    assert nights.intervals(utc(2026, 3, 28), utc(2026, 3, 30)) == \
        [(utc(2026, 3, 28, 22), utc(2026, 3, 29, 5))]
    # 2026-10-24 22:00 BST = 21:00 UTC to 2026-10-25 06:00 GMT: 9 hours.
    assert nights.intervals(utc(2026, 10, 24), utc(2026, 10, 26)) == \
        [(utc(2026, 10, 24, 21), utc(2026, 10, 25, 6))]


def test_night_period_across_fall_back_new_york():
    nights = BusinessCalendar.from_coverage([coverage(["sat"], "22:00", "06:00")],
                                            "America/New_York")
    # 2026-10-31 22:00 EDT = 02:00 UTC to 2026-11-01 06:00 EST = 11:00 UTC: 9 hours.
    assert nights.intervals(utc(2026, 10, 31), utc(2026, 11, 2)) == \
        [(utc(2026, 11, 1, 2), utc(2026, 11, 1, 11))]


def test_skipped_and_repeated_wall_clock_times():
    # 01:30 does not exist in London on 2026-03-29: it maps past the gap (01:30 UTC).
    gap = BusinessCalendar.from_coverage([coverage(["sun"], "01:30", "03:00")],
                                         "Europe/London")
    assert gap.intervals(utc(2026, 3, 29), utc(2026, 3, 30)) == \
        [(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2))]
    # 01:30 happens twice on 2026-10-25: the first (BST, 00:30 UTC) is taken.
    twice = BusinessCalendar.from_coverage([coverage(["sun"], "01:30", "03:00")],
                                           "Europe/London")
    assert twice.intervals(utc(2026, 10, 25), utc(2026, 10, 26)) == \
        [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3))]


# ------------------------------------------------------------------ contains


def test_contains_needs_the_whole_span_inside_one_open_interval():
    cal = office()
    assert cal.contains(utc(2026, 11, 23, 8), utc(2026, 11, 23, 18))
    assert not cal.contains(utc(2026, 11, 23, 17, 45), utc(2026, 11, 23, 18, 15))
    assert not cal.contains(utc(2026, 11, 23, 17), utc(2026, 11, 24, 9))  # spans the night
    assert cal.contains(utc(2026, 11, 23, 9), utc(2026, 11, 23, 9))  # zero length: open?
    assert not cal.contains(utc(2026, 11, 23, 7), utc(2026, 11, 23, 7))
    merged = BusinessCalendar.from_coverage(
        [coverage(["mon"], "08:00", "12:00"), coverage(["mon"], "12:00", "18:00")], "UTC")
    assert merged.contains(utc(2026, 11, 23, 11), utc(2026, 11, 23, 13))


def test_is_open_at_the_edges():
    cal = office()
    assert cal.is_open(utc(2026, 11, 23, 8))
    assert not cal.is_open(utc(2026, 11, 23, 18))
    assert not cal.is_open(utc(2026, 11, 28, 12))  # Saturday


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="start must carry a UTC offset"):
        office().intervals(datetime(2026, 11, 23, 8), utc(2026, 11, 24))
    with pytest.raises(ValueError, match="start must carry a UTC offset"):
        office().add_business_minutes(datetime(2026, 11, 23, 8), 10)


# ------------------------------------------------------------- business time


def test_add_business_minutes_across_a_weekend():
    cal = office()  # November: London = UTC
    friday_5pm = utc(2026, 11, 27, 17)
    assert cal.add_business_minutes(friday_5pm, 60) == utc(2026, 11, 27, 18)
    assert cal.add_business_minutes(friday_5pm, 120) == utc(2026, 11, 30, 9)
    assert cal.add_business_minutes(utc(2026, 11, 28, 10), 0) == utc(2026, 11, 30, 8)
    assert cal.add_business_minutes(utc(2026, 11, 30, 8), 600) == utc(2026, 11, 30, 18)
    assert cal.add_business_minutes(utc(2026, 11, 30, 8), 601) == utc(2026, 12, 1, 8, 1)
    # Five full days from Monday 08:00 ends Friday 18:00; one more minute is next Monday.
    assert cal.add_business_minutes(utc(2026, 11, 23, 8), 3000) == utc(2026, 11, 27, 18)
    assert cal.add_business_minutes(utc(2026, 11, 23, 8), 3001) == utc(2026, 11, 30, 8, 1)


def test_add_business_minutes_in_summer_time_and_fractional_minutes():
    cal = office()  # June: BST, open 07:00-17:00 UTC
    assert cal.add_business_minutes(utc(2026, 6, 5, 16), 90.5) == \
        utc(2026, 6, 8, 7, 30, 30)


def test_add_business_minutes_skips_holidays_and_long_calendars_work():
    cal = office(holidays=[date(2026, 11, 30)])  # Monday
    assert cal.add_business_minutes(utc(2026, 11, 27, 17), 120) == utc(2026, 12, 1, 9)
    # 30 business days (more than the 14-day search chunk) of 600 minutes.
    assert cal.add_business_minutes(utc(2026, 11, 2, 8), 30 * 600) == utc(2026, 12, 14, 18)


def test_add_business_minutes_with_pauses():
    cal = office()
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    pause = [(monday + timedelta(hours=10), monday + timedelta(hours=11))]
    assert cal.add_business_minutes(monday + timedelta(hours=9), 120, pause) == \
        monday + timedelta(hours=12)
    # A pause in another offset (17:00 UTC Monday to 09:00 UTC Tuesday): it removes
    # Monday 17:00-18:00 and Tuesday 08:00-09:00; the night was closed anyway.
    paris = timezone(timedelta(hours=1))
    overnight = [(datetime(2026, 11, 23, 18, tzinfo=paris),
                  datetime(2026, 11, 24, 10, tzinfo=paris))]
    assert cal.add_business_minutes(monday + timedelta(hours=16), 120, overnight) == \
        utc(2026, 11, 24, 10)
    # Overlapping pauses count once.
    twice = [(utc(2026, 11, 23, 10), utc(2026, 11, 23, 11)),
             (utc(2026, 11, 23, 10, 30), utc(2026, 11, 23, 11, 30))]
    assert cal.add_business_minutes(utc(2026, 11, 23, 9), 120, twice) == utc(2026, 11, 23, 12, 30)


def test_add_business_minutes_refuses_bad_input():
    with pytest.raises(ValueError, match="must not be negative"):
        office().add_business_minutes(utc(2026, 11, 23, 8), -1)
    mondays = BusinessCalendar.from_coverage([coverage(["mon"], "08:00", "09:00")], "UTC")
    with pytest.raises(ValueError, match="too little open time within 3 days"):
        mondays.add_business_minutes(utc(2026, 11, 24), 1, horizon_days=3)


def test_business_minutes_between():
    cal = office()
    assert cal.business_minutes_between(utc(2026, 11, 27, 17), utc(2026, 11, 30, 9)) == 120
    assert cal.business_minutes_between(utc(2026, 11, 30, 9), utc(2026, 11, 27, 17)) == 0
    assert cal.business_minutes_between(utc(2026, 11, 23), utc(2026, 11, 30)) == 3000
    pauses = [(utc(2026, 11, 27, 17, 30), utc(2026, 11, 30, 8, 30))]  # mostly over the weekend
    assert cal.business_minutes_between(utc(2026, 11, 27, 17), utc(2026, 11, 30, 9),
                                        pauses) == 60


def test_business_minutes_round_trip_with_add():
    cal = office("America/New_York", holidays=[date(2026, 11, 26)])
    start = utc(2026, 10, 30, 20)
    for minutes in (0.5, 59, 600, 1234, 4321):
        end = cal.add_business_minutes(start, minutes)
        assert cal.business_minutes_between(start, end) == pytest.approx(minutes)


def test_around_midnight():
    # Sunday-night cover 22:00-02:00 in London (UTC in November).
    late = BusinessCalendar.from_coverage([coverage(["sun"], "22:00", "02:00")],
                                          "Europe/London")
    sunday_11pm = utc(2026, 11, 29, 23)
    assert late.add_business_minutes(sunday_11pm, 120) == utc(2026, 11, 30, 1)
    assert late.add_business_minutes(sunday_11pm, 200) == utc(2026, 12, 6, 22, 20)
    assert late.business_minutes_between(utc(2026, 11, 30), utc(2026, 11, 30, 12)) == 120
    # Saturday-only 00:00-24:00: Friday 23:30 waits for Saturday's midnight opening.
    saturday = BusinessCalendar.from_coverage([coverage(["sat"], "00:00", "24:00")], "UTC")
    assert saturday.add_business_minutes(utc(2026, 11, 27, 23, 30), 60) == utc(2026, 11, 28, 1)
    assert saturday.add_business_minutes(utc(2026, 11, 28, 23, 30), 60) == \
        utc(2026, 12, 5, 0, 30)


# -------------------------------------------------------------- interval maths


def test_merge_and_intersect_intervals():
    a = merge_intervals([(utc(2026, 1, 1, 3), utc(2026, 1, 1, 5)),
                         (utc(2026, 1, 1, 1), utc(2026, 1, 1, 3)),
                         (utc(2026, 1, 1, 7), utc(2026, 1, 1, 6))])  # empty: dropped
    assert a == [(utc(2026, 1, 1, 1), utc(2026, 1, 1, 5))]
    b = [(utc(2026, 1, 1, 0), utc(2026, 1, 1, 2)), (utc(2026, 1, 1, 4), utc(2026, 1, 1, 9))]
    assert intersect_intervals(a, b) == [(utc(2026, 1, 1, 1), utc(2026, 1, 1, 2)),
                                         (utc(2026, 1, 1, 4), utc(2026, 1, 1, 5))]
