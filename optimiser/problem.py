"""The request compiled into integer model terms: clock, travel, vehicles, visit lengths.

Every later stage (eligibility, model building, plan extraction, explanations)
works from this one compilation so that they all agree to the second.
A *vehicle* is one shift of one technician: several shifts are several routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from optimiser.schema import PlanRequest, Shift
from optimiser.timebase import TimeBase, seconds_up
from optimiser.travel import TravelMatrices, build_travel


@dataclass(frozen=True)
class BreakSpec:
    """A break of ``duration`` seconds starting in ``[start_min, start_max]``."""

    start_min: int
    start_max: int
    duration: int


@dataclass(frozen=True)
class Vehicle:
    index: int
    technician: int
    technician_id: str
    shift_index: int
    shift: Shift
    start: int
    """Earliest departure (shift start)."""
    end: int
    """Shift end: returning later is overtime."""
    hard_end: int
    """Shift end plus the technician's maximum overtime."""
    breaks: tuple[BreakSpec, ...]
    start_point: int
    end_point: int
    usable: bool = True
    """False when one of the shift's breaks cannot lie inside the shift at all."""

    @property
    def label(self) -> str:
        return f"{self.technician_id}" if self.shift_index == 0 else \
            f"{self.technician_id} (shift {self.shift_index})"


@dataclass(frozen=True)
class Problem:
    request: PlanRequest
    timebase: TimeBase
    travel: TravelMatrices
    vehicles: tuple[Vehicle, ...]
    service: tuple[int, ...]
    """Visit length of each appointment in whole seconds (rounded up)."""
    horizon: int
    """Latest instant any vehicle may still work (seconds)."""

    @property
    def num_appointments(self) -> int:
        return len(self.request.appointments)

    def vehicles_of(self, technician_id: str) -> list[Vehicle]:
        return [v for v in self.vehicles if v.technician_id == technician_id]


def _origin(request: PlanRequest) -> datetime:
    starts = [shift.start for tech in request.technicians for shift in tech.shifts]
    if starts:
        return min(starts)
    windows = [w.start for a in request.appointments for w in a.windows]
    return min(windows) if windows else datetime(2000, 1, 1, tzinfo=UTC)


def _break_specs(shift: Shift, timebase: TimeBase, start: int, hard_end: int) -> tuple[
        tuple[BreakSpec, ...], bool]:
    specs: list[BreakSpec] = []
    usable = True
    for brk in shift.breaks:
        duration = seconds_up(brk.duration_min)
        earliest = max(timebase.not_before(brk.earliest_start), start)
        latest = min(timebase.not_after(brk.latest_end), hard_end) - duration
        if latest < earliest:
            usable = False
            latest = earliest
        specs.append(BreakSpec(earliest, latest, duration))
    return tuple(specs), usable


def compile_problem(request: PlanRequest) -> Problem:
    """Compile ``request``: clock origin, travel matrices, one vehicle per shift."""
    timebase = TimeBase.starting_at(_origin(request))
    travel = build_travel(request)
    vehicles: list[Vehicle] = []
    for t, tech in enumerate(request.technicians):
        later_starts = sorted(timebase.not_after(s.start) for s in tech.shifts)
        for s, shift in enumerate(tech.shifts):
            start = timebase.not_before(shift.start)
            end = timebase.not_after(shift.end)
            hard_end = max(end + int(tech.max_overtime_min * 60 + 1e-9), start)
            # Overtime never runs into the technician's next shift (routes must not overlap).
            next_start = next((x for x in later_starts if x >= end), None)
            if next_start is not None:
                hard_end = max(min(hard_end, next_start), end)
            breaks, usable = _break_specs(shift, timebase, start, hard_end)
            vehicles.append(Vehicle(
                index=len(vehicles), technician=t, technician_id=tech.id, shift_index=s,
                shift=shift, start=start, end=end, hard_end=hard_end, breaks=breaks,
                start_point=travel.technician_start[t], end_point=travel.technician_end[t],
                usable=usable,
            ))
    service = tuple(seconds_up(a.duration_min) for a in request.appointments)
    horizon = max((v.hard_end for v in vehicles), default=0)
    return Problem(request, timebase, travel, tuple(vehicles), service, horizon)
