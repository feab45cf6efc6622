"""One clock for the model: integer seconds after the earliest shift start.

OR-Tools works on integers. Every instant of the request is turned into seconds
after ``origin`` (the earliest shift start). Rounding always goes the safe way:
the start of something the plan must wait for rounds UP, a deadline rounds DOWN,
so a plan feasible in seconds is feasible in exact time too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class TimeBase:
    origin: datetime

    @classmethod
    def starting_at(cls, origin: datetime) -> TimeBase:
        return cls(origin.astimezone(UTC))

    def offset_s(self, instant: datetime) -> float:
        """Exact seconds after the origin (may be fractional or negative)."""
        return (instant - self.origin).total_seconds()

    def not_before(self, instant: datetime) -> int:
        """Smallest whole second at or after ``instant``."""
        return math.ceil(self.offset_s(instant) - 1e-9)

    def not_after(self, instant: datetime) -> int:
        """Largest whole second at or before ``instant``."""
        return math.floor(self.offset_s(instant) + 1e-9)

    def instant(self, seconds: float, zone: tzinfo | None = None) -> datetime:
        """The instant ``seconds`` after the origin, shown in ``zone`` (default UTC)."""
        moment = self.origin + timedelta(seconds=seconds)
        return moment.astimezone(zone or UTC)


def seconds_up(minutes: float) -> int:
    """A duration in minutes as whole seconds, rounded up (never shorter than the truth)."""
    return math.ceil(minutes * 60.0 - 1e-9)
