"""Business hours: weekly calendars in a time zone turned into concrete intervals.

This is the one business-hours calculator of the project. The scheduler uses it
to turn an entitlement's coverage into the instants a visit may occupy; the
ticket store's SLA clocks use it to add business minutes to a start time and to
count business minutes between two instants (with pauses). Local wall-clock
times are resolved with ``zoneinfo`` day by day, so a period "08:00-18:00" is
ten hours on an ordinary day and still 08:00-18:00 local on a DST change day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from optimiser.schema import WEEKDAYS, CoveragePeriod

Interval = tuple[datetime, datetime]


def _parse_clock(text: str) -> tuple[int, int]:
    hours, minutes = text.split(":")
    return int(hours), int(minutes)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset")


@dataclass(frozen=True)
class WeeklyPeriod:
    """One recurring period: on ``weekday`` (0 = Monday) from ``start`` to ``end`` local time.

    ``end`` of ``(24, 0)`` means midnight at the end of the day; an ``end`` at or
    before ``start`` runs over midnight into the next day.
    """

    weekday: int
    start: tuple[int, int]
    end: tuple[int, int]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching intervals."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect_intervals(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted, merged interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


@dataclass(frozen=True)
class BusinessCalendar:
    """A weekly calendar in a time zone, with optional whole-day holidays.

    ``periods=None`` means always open (24x7).
    """

    timezone: str = "UTC"
    periods: tuple[WeeklyPeriod, ...] | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_coverage(
        cls,
        coverage: Sequence[CoveragePeriod] | None,
        timezone: str = "UTC",
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Build from the exchange format's ``coverage`` list (``None`` = 24x7)."""
        if coverage is None:
            return cls(timezone=timezone, periods=None, holidays=frozenset(holidays))
        periods = tuple(
            WeeklyPeriod(WEEKDAYS.index(day), _parse_clock(p.from_), _parse_clock(p.to))
            for p in coverage
            for day in p.days
        )
        return cls(timezone=timezone, periods=periods, holidays=frozenset(holidays))

    @property
    def always_open(self) -> bool:
        return self.periods is None and not self.holidays

    # ------------------------------------------------------------------ intervals

    def intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Open intervals overlapping ``[start, end)``, clipped to it, in UTC, merged."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return []
        zone = ZoneInfo(self.timezone)
        if self.periods is None:
            raw = [(start, end)]
        else:
            first_day = start.astimezone(zone).date() - timedelta(days=1)
            last_day = end.astimezone(zone).date()
            raw = []
            day = first_day
            while day <= last_day:
                for period in self.periods:
                    if period.weekday == day.weekday():
                        raw.append(self._concrete(day, period, zone))
                day += timedelta(days=1)
        clipped = merge_intervals((max(s, start), min(e, end)) for s, e in raw)
        return _subtract(clipped, self._holiday_intervals(zone)) if self.holidays else clipped

    def _holiday_intervals(self, zone: ZoneInfo) -> list[Interval]:
        """Each holiday as its whole local day, so an overnight period stops at its midnight."""
        return merge_intervals(
            (_local_instant(day, time(0, 0), zone),
             _local_instant(day + timedelta(days=1), time(0, 0), zone))
            for day in self.holidays)

    @staticmethod
    def _concrete(day: date, period: WeeklyPeriod, zone: ZoneInfo) -> Interval:
        opens = _local_instant(day, time(*period.start), zone)
        if period.end == (24, 0):
            closes = _local_instant(day + timedelta(days=1), time(0, 0), zone)
        elif period.end <= period.start:
            closes = _local_instant(day + timedelta(days=1), time(*period.end), zone)
        else:
            closes = _local_instant(day, time(*period.end), zone)
        return opens, closes

    def is_open(self, instant: datetime) -> bool:
        return bool(self.intervals(instant, instant + timedelta(microseconds=1)))

    def contains(self, start: datetime, end: datetime) -> bool:
        """True when the whole of ``[start, end]`` lies inside one open interval."""
        if end <= start:
            return self.is_open(start)
        inside = self.intervals(start, end)
        return len(inside) == 1 and inside[0][0] <= start and inside[0][1] >= end

    # ------------------------------------------------------------ business time

    def business_minutes_between(
        self, start: datetime, end: datetime, pauses: Sequence[Interval] = ()
    ) -> float:
        """Business minutes in ``[start, end)``, not counting ``pauses``."""
        open_time = self.intervals(start, end)
        paused = merge_intervals((s.astimezone(UTC), e.astimezone(UTC)) for s, e in pauses)
        total = sum((e - s).total_seconds() for s, e in open_time)
        total -= sum((e - s).total_seconds() for s, e in intersect_intervals(open_time, paused))
        return total / 60

    def add_business_minutes(
        self,
        start: datetime,
        minutes: float,
        pauses: Sequence[Interval] = (),
        horizon_days: int = 366,
    ) -> datetime:
        """The instant at which ``minutes`` of business time have elapsed after ``start``.

        Time inside ``pauses`` does not count. Zero minutes from a closed instant
        gives the next opening. Raises ``ValueError`` if the calendar has no open
        time within ``horizon_days``.
        """
        _require_aware(start, "start")
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = timedelta(minutes=minutes)
        paused = merge_intervals((s.astimezone(UTC), e.astimezone(UTC)) for s, e in pauses)
        cursor = start.astimezone(UTC)
        limit = cursor + timedelta(days=horizon_days)
        chunk = timedelta(days=14)
        while cursor < limit:
            window_end = min(cursor + chunk, limit)
            for s, e in _subtract(self.intervals(cursor, window_end), paused):
                available = e - s
                if remaining <= available:
                    return s + remaining
                remaining -= available
            cursor = window_end
        raise ValueError(f"calendar has too little open time within {horizon_days} days")


def _subtract(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``intervals`` minus ``holes`` (both sorted and merged)."""
    result: list[Interval] = []
    for start, end in intervals:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def _local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time skipped by a spring-forward change maps past the gap (PEP 495 fold=0
    uses the offset from before the change); a repeated autumn time maps to its
    first occurrence.
    """
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
