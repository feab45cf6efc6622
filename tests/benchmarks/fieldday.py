"""Realistic London field days: our optimiser against VROOM on the same requests.

Days come from ``data.generate`` (skills with levels, contracts, windows, SLAs,
breaks, territories, pins, impossible visits). Our optimiser solves the plan
request as is; VROOM gets the same day encoded in its terms:

- skills with levels: one VROOM skill id per (skill, level); a technician with
  level L holds the ids of levels 1..L; a visit needs the id of its required
  level raised to the contract's ``min_skill_level``;
- territories, excluded technicians and pins: more skill ids (one per
  territory; one per visit with exclusions, held by everybody else; one per
  pinned visit, held by its technician only);
- windows: every window (several allowed) intersected with the contract's
  cover, shifted so the whole visit fits in a cover period, cut at
  ``valid_until``; a visit with no window may start any time a shift allows;
  a visit left with no possible start (expired, no on-site cover, no overlap)
  gets a skill nobody holds, so it is passed but cannot be assigned;
- one VROOM vehicle per technician shift (time window = shift plus allowed
  overtime), the lunch break as a VROOM break, capacity and demand;
- priority: VROOM maximises the sum of job priorities (0-100) first; by default
  a job's priority is proportional to its weighted work (weight x minutes,
  weights 16/8/4/2/1 for P1..P5), the figure compared here (``--vroom-priority
  weight`` uses the weight alone). VROOM has no soft SLA deadline and no
  preferred technicians; those are not passed.

VROOM's plan is mapped back to the exchange format (times from its schedule,
travel recomputed from the request) and checked with ``validate_plan`` like
ours. Both use the project's travel matrices (``optimiser.travel``): VROOM in
whole seconds rounded up, as our model does.

    .venv/bin/python tests/benchmarks/fieldday.py                 # 25x150, 100x700, week
    .venv/bin/python tests/benchmarks/fieldday.py --size 25x150 --seeds 1,2,3
    .venv/bin/python tests/benchmarks/fieldday.py --size 100x1000 --no-vroom
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data.generate import generate_day  # noqa: E402
from optimiser import Progress  # noqa: E402
from optimiser.calendars import BusinessCalendar, merge_intervals  # noqa: E402
from optimiser.kpis import PRIORITY_WEIGHTS, compute_kpis, plan_summary  # noqa: E402
from optimiser.schema import (  # noqa: E402
    Appointment,
    BreakTaken,
    Plan,
    PlanRequest,
    Route,
    Stop,
    Unassigned,
)
from optimiser.travel import TravelMatrices, build_travel  # noqa: E402
from tests.benchmarks.common import (  # noqa: E402
    format_table,
    load_solver,
    load_validator,
    machine_header,
    patch_search_parameters,
)

#: name -> (technicians, appointments, days, default time limit in seconds)
SCENARIOS: dict[str, tuple[int, int, int, float]] = {
    "25x150": (25, 150, 1, 20),
    "100x700": (100, 700, 1, 60),
    "25x450x3": (25, 450, 3, 60),
    "100x1000": (100, 1000, 1, 60),
}
DEFAULT_SCENARIOS = ("25x150", "100x700", "25x450x3")
UNLIMITED = 2**31 - 1


def parse_size(text: str) -> tuple[int, int, int, float]:
    if text in SCENARIOS:
        return SCENARIOS[text]
    parts = text.lower().split("x")
    if len(parts) not in (2, 3) or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"size {text!r}: expected TECHSxVISITS[xDAYS], "
                                         f"e.g. 25x150 or 25x450x3")
    technicians, appointments = int(parts[0]), int(parts[1])
    days = int(parts[2]) if len(parts) == 3 else 1
    return technicians, appointments, days, 60.0


# --------------------------------------------------------------------------- our optimiser


@dataclass
class Run:
    plan: Plan
    seconds: float
    cpu_s: float  # process CPU time: on a shared machine, wall time alone misleads
    first_feasible_s: float | None = None
    notes: list[str] = field(default_factory=list)
    reports: list[Progress] = field(default_factory=list)  # our search's progress timeline


def solve_ours(request: PlanRequest, time_limit_s: float, seed: int) -> Run:
    """Solve, timing the whole call and the first progress report (first feasible plan)."""
    solve = load_solver()
    started, cpu_started = time.perf_counter(), time.process_time()
    reports: list[Progress] = []
    plan = solve(request, time_limit_s=time_limit_s, seed=seed, progress=reports.append)
    seconds = time.perf_counter() - started
    # The first report is the first solution found (every visit is optional in the
    # model, so the first solution is a feasible plan).
    return Run(plan=plan, seconds=seconds, cpu_s=time.process_time() - cpu_started,
               first_feasible_s=reports[0].elapsed_s if reports else None, reports=reports)


# --------------------------------------------------------------------------- VROOM encoding


class SkillIds:
    """Hands out VROOM skill ids (non-negative ints) for named capabilities."""

    def __init__(self) -> None:
        self._ids: dict[tuple, int] = {}

    def __call__(self, *key) -> int:
        return self._ids.setdefault(key, len(self._ids))


def _start_intervals(request: PlanRequest, appointment: Appointment,
                     horizon: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    """Allowed visit START intervals: windows x contract cover (whole visit) x valid_until."""
    entitlements = {e.id: e for e in request.entitlements}
    windows = [(w.start, w.end) for w in appointment.windows] or [horizon]
    entitlement = entitlements.get(appointment.entitlement_id or "")
    if entitlement is None:
        return merge_intervals(windows)
    if not entitlement.onsite:
        return []
    duration = timedelta(minutes=appointment.duration_min)
    calendar = BusinessCalendar.from_coverage(entitlement.coverage, entitlement.timezone)
    allowed: list[tuple[datetime, datetime]] = []
    for start, end in windows:
        # A visit starting in [start, end] occupies at most [start, end + duration].
        for open_from, open_to in calendar.intervals(start, end + duration):
            lo, hi = max(start, open_from), min(end, open_to - duration)
            if entitlement.valid_until is not None:
                hi = min(hi, entitlement.valid_until)
            if lo <= hi:
                allowed.append((lo, hi))
    return merge_intervals(allowed) if allowed else []


@dataclass
class VroomEncoding:
    origin: datetime
    vehicles: list[tuple[str, int]]  # VROOM vehicle id - 1 -> (technician id, shift index)
    jobs: list[str]  # VROOM job id - 1 -> appointment id
    blocked: dict[str, str]  # appointment id -> why VROOM cannot assign it (our reading)
    travel: TravelMatrices


def _priority(appointment: Appointment, mode: str, top: float) -> int:
    if mode == "weight":
        return round(100 * PRIORITY_WEIGHTS[appointment.priority] / 16)
    work = PRIORITY_WEIGHTS[appointment.priority] * appointment.duration_min
    return max(1, min(100, round(100 * work / top)))


def encode_vroom(request: PlanRequest, priority_mode: str):
    """The request as a ``vroom.Input`` plus what is needed to map its answer back."""
    import numpy as np
    import vroom

    travel = build_travel(request)
    shifts = [(t, k, s) for t in request.technicians for k, s in enumerate(t.shifts)]
    origin = min(s.start for _, _, s in shifts).astimezone(UTC)
    horizon = (origin, max(s.end + timedelta(minutes=t.max_overtime_min) for t, _, s in shifts))

    def sec_up(instant: datetime) -> int:
        return math.ceil((instant - origin).total_seconds() - 1e-9)

    def sec_down(instant: datetime) -> int:
        return math.floor((instant - origin).total_seconds() + 1e-9)

    problem = vroom.Input()
    problem.set_durations_matrix("car", np.asarray(travel.duration_s, dtype=np.uint32))
    skill = SkillIds()
    nobody = skill("nobody")
    all_skills = {name for t in request.technicians for name in t.skills}
    territories = {a.territory for a in request.appointments if a.territory}
    entitlements = {e.id: e for e in request.entitlements}

    tech_skills: dict[str, set[int]] = {}
    for tech in request.technicians:
        ids = {skill("skill", name, level)
               for name, top in tech.skills.items() for level in range(1, top + 1)}
        ids |= {skill("territory", z) for z in territories
                if not tech.territories or z in tech.territories}
        tech_skills[tech.id] = ids

    jobs: list[str] = []
    blocked: dict[str, str] = {}
    top_work = max((PRIORITY_WEIGHTS[a.priority] * a.duration_min
                    for a in request.appointments), default=1) or 1
    vroom_jobs = []
    for position, appointment in enumerate(request.appointments):
        entitlement = entitlements.get(appointment.entitlement_id or "")
        floor = entitlement.min_skill_level if entitlement and entitlement.min_skill_level \
            else 1
        needs: set[int] = set()
        for name, level in appointment.required_skills.items():
            needed = max(level, floor)
            if name not in all_skills or not any(t.skills.get(name, 0) >= needed
                                                 for t in request.technicians):
                blocked[appointment.id] = "no_skilled_technician"
            needs.add(skill("skill", name, needed))
        if appointment.territory:
            needs.add(skill("territory", appointment.territory))
        if appointment.excluded_technicians:
            exclusion = skill("allowed", appointment.id)
            needs.add(exclusion)
            for tech in request.technicians:
                if tech.id not in appointment.excluded_technicians:
                    tech_skills[tech.id].add(exclusion)
        if appointment.pinned_technician:
            pin = skill("pinned", appointment.id)
            needs.add(pin)
            tech_skills[appointment.pinned_technician].add(pin)
        starts = [(max(sec_up(lo), 0), sec_down(hi))
                  for lo, hi in _start_intervals(request, appointment, horizon)]
        starts = [(lo, hi) for lo, hi in starts if lo <= hi]  # none: VROOM would mean "any"
        if not starts:
            blocked.setdefault(appointment.id, "not_entitled" if entitlement else
                               "window_unreachable")
            needs.add(nobody)
        elif not any(needs <= ids for ids in tech_skills.values()):
            blocked.setdefault(appointment.id, "territory")
        jobs.append(appointment.id)
        vroom_jobs.append(vroom.Job(
            position + 1, location=travel.appointment_point[position],
            default_service=math.ceil(appointment.duration_min * 60 - 1e-9),
            delivery=[round(appointment.demand * 100)], skills=needs,
            priority=_priority(appointment, priority_mode, top_work),
            time_windows=[vroom.TimeWindow(lo, hi) for lo, hi in starts],
        ))

    vehicles: list[tuple[str, int]] = []
    break_id = 0
    tech_row = {t.id: i for i, t in enumerate(request.technicians)}
    for tech, k, shift in shifts:
        breaks = []
        for b in shift.breaks:
            break_id += 1
            latest_start = b.latest_end - timedelta(minutes=b.duration_min)
            breaks.append(vroom.Break(break_id, time_windows=[vroom.TimeWindow(
                sec_up(b.earliest_start), sec_down(latest_start))],
                service=math.ceil(b.duration_min * 60 - 1e-9)))
        end = shift.end + timedelta(minutes=tech.max_overtime_min)
        capacity = UNLIMITED if tech.capacity is None else round(tech.capacity * 100)
        row = tech_row[tech.id]
        vehicles.append((tech.id, k))
        problem.add_vehicle(vroom.Vehicle(
            len(vehicles), start=travel.technician_start[row], end=travel.technician_end[row],
            capacity=[capacity], skills=tech_skills[tech.id],
            time_window=vroom.TimeWindow(sec_up(shift.start), sec_down(end)), breaks=breaks))
    problem.add_job(vroom_jobs)
    return problem, VroomEncoding(origin, vehicles, jobs, blocked, travel)


def solve_vroom(request: PlanRequest, time_limit_s: float, exploration: int, threads: int,
                priority_mode: str) -> Run:
    started, cpu_started = time.perf_counter(), time.process_time()
    problem, encoding = encode_vroom(request, priority_mode)
    solution = problem.solve(exploration_level=exploration, nb_threads=threads,
                             timeout=timedelta(seconds=time_limit_s))
    seconds = time.perf_counter() - started
    plan = vroom_plan(request, solution, encoding, seconds)
    return Run(plan=plan, seconds=seconds, cpu_s=time.process_time() - cpu_started)


# --------------------------------------------------------------------------- VROOM -> plan


def vroom_plan(request: PlanRequest, solution, encoding: VroomEncoding, seconds: float) -> Plan:
    """VROOM's answer in the exchange format; travel recomputed from the request."""
    appointments = {a.id: a for a in request.appointments}
    position = {a.id: i for i, a in enumerate(request.appointments)}
    techs = {t.id: i for i, t in enumerate(request.technicians)}
    travel = encoding.travel

    def at(value) -> datetime:
        return encoding.origin + timedelta(seconds=int(value))

    routes: list[Route] = []
    steps = solution.routes
    for vehicle_id, group in steps.groupby("vehicle_id", sort=True):
        tech_id, shift_index = encoding.vehicles[int(vehicle_id) - 1]
        tech = request.technicians[techs[tech_id]]
        shift = tech.shifts[shift_index]
        previous = travel.technician_start[techs[tech_id]]
        stops: list[Stop] = []
        breaks: list[BreakTaken] = []
        departure = return_ = None
        total_min = total_km = 0.0
        for step in group.itertuples():
            kind = str(step.type)
            begin = at(step.arrival + step.waiting_time)
            if kind == "start":
                departure = at(step.arrival)
            elif kind == "break":
                breaks.append(BreakTaken(start=begin, end=begin + timedelta(
                    seconds=int(step.service))))
            elif kind == "job":
                appointment = appointments[encoding.jobs[int(step.id) - 1]]
                point = travel.appointment_point[position[appointment.id]]
                leg_min = float(travel.duration_min[previous, point])
                leg_km = float(travel.distance_km[previous, point])
                total_min += leg_min
                total_km += leg_km
                end = begin + timedelta(minutes=appointment.duration_min)
                late = 0.0 if appointment.sla_due is None else \
                    max(0.0, (begin - appointment.sla_due).total_seconds() / 60)
                stops.append(Stop(
                    appointment_id=appointment.id, arrival=at(step.arrival), start=begin,
                    end=end, travel_min=leg_min, distance_km=leg_km,
                    sla_met=None if appointment.sla_due is None else begin <= appointment.sla_due,
                    lateness_min=late))
                previous = point
            elif kind == "end":
                home = travel.technician_end[techs[tech_id]]
                total_min += float(travel.duration_min[previous, home])
                total_km += float(travel.distance_km[previous, home])
                return_ = at(step.arrival)
        if not stops:
            continue
        overtime = max(0.0, (return_ - shift.end).total_seconds() / 60)
        routes.append(Route(technician_id=tech_id, shift_index=shift_index, departure=departure,
                            return_=return_, stops=stops, breaks=breaks, travel_min=total_min,
                            distance_km=total_km, overtime_min=overtime))
    assigned = {s.appointment_id for r in routes for s in r.stops}
    unassigned = [
        Unassigned(appointment_id=a.id, reason=encoding.blocked.get(a.id, "capacity"),
                   detail="VROOM left it out" + (
                       f" (blocked: {encoding.blocked[a.id]})" if a.id in encoding.blocked
                       else " (did not fit)"))
        for a in request.appointments if a.id not in assigned
    ]
    plan = Plan(status="feasible", routes=routes, unassigned=unassigned, solve_time_s=seconds)
    plan.kpis = compute_kpis(request, plan)
    return plan


# --------------------------------------------------------------------------- report


METRICS = [
    ("assigned", "assigned visits"),
    ("assigned_p1", "  P1"), ("assigned_p2", "  P2"), ("assigned_p3", "  P3"),
    ("assigned_p4", "  P4"), ("assigned_p5", "  P5"),
    ("work_p1", "work min P1"), ("work_p2", "work min P2"), ("work_p3", "work min P3"),
    ("work_p4", "work min P4"), ("work_p5", "work min P5"),
    ("weighted_assigned", "weighted visits (16/8/4/2/1)"),
    ("weighted_work_min", "weighted work min (16/8/4/2/1)"),
    ("distance_km", "km"), ("km_per_visit", "km per visit"),
    ("travel_min", "travel min"), ("sla_missed", "SLA misses"), ("lateness_min", "SLA late min"),
    ("overtime_min", "overtime min"), ("preferred_kept", "preferred technician kept"),
    ("routes_used", "routes used"),
    ("utilisation", "utilisation"), ("violations", "validator violations"),
    ("seconds", "wall time s"), ("cpu_s", "CPU time s (all threads)"),
    ("first_feasible_s", "first feasible s (wall)"),
    ("last_improvement_s", "last improvement s (wall)"),
    ("solutions", "solutions seen by the search"),
]


def summarise(request: PlanRequest, run: Run, validate: Callable | None) -> dict:
    summary = plan_summary(request, run.plan)
    assigned = {s.appointment_id for r in run.plan.routes for s in r.stops}
    for p in PRIORITY_WEIGHTS:
        summary[f"work_p{p}"] = sum(a.duration_min for a in request.appointments
                                    if a.priority == p and a.id in assigned)
    by_tech = {s.appointment_id: r.technician_id for r in run.plan.routes for s in r.stops}
    wanting = [a for a in request.appointments if a.preferred_technicians and a.id in by_tech]
    kept = sum(1 for a in wanting if by_tech[a.id] in a.preferred_technicians)
    summary["preferred_kept"] = f"{kept}/{len(wanting)}"
    summary["seconds"] = run.seconds
    summary["cpu_s"] = run.cpu_s
    summary["first_feasible_s"] = run.first_feasible_s
    summary["last_improvement_s"] = run.reports[-1].elapsed_s if run.reports else None
    summary["solutions"] = run.reports[-1].solutions if run.reports else None
    if validate is None:
        summary["violations"] = None
    else:
        found = validate(request, run.plan)
        summary["violations"] = len(found)
        run.notes += [str(v) for v in found[:5]]
    return summary


def _percent(value: float, reference: float) -> str:
    return f"{100 * (value / reference - 1):+.1f} %" if reference else "n/a"


def report(title: str, request: PlanRequest, summaries: dict[str, dict],
           notes: dict[str, list[str]]) -> str:
    totals = {p: sum(1 for a in request.appointments if a.priority == p) for p in range(1, 6)}
    rows = []
    for key, label in METRICS:
        row = {"metric": label}
        for solver, summary in summaries.items():
            value = summary.get(key)
            if key.startswith("assigned_p") and value is not None:
                value = f"{value}/{totals[int(key[-1])]}"
            elif key == "assigned" and value is not None:
                value = f"{value}/{len(request.appointments)}"
            row[solver] = value
        rows.append(row)
    lines = [title, format_table(rows, ["metric", *summaries])]
    if "ours" in summaries and "vroom" in summaries:
        ours, theirs = summaries["ours"], summaries["vroom"]
        more_work = ours["weighted_work_min"] >= theirs["weighted_work_min"] - 1e-6
        fewer_km = ours["km_per_visit"] <= theirs["km_per_visit"] + 1e-9
        lines.append(
            f"target (weighted work >= VROOM and km/visit <= VROOM): "
            f"{'MET' if more_work and fewer_km else 'NOT MET'} "
            f"(weighted work {ours['weighted_work_min']:.0f} vs {theirs['weighted_work_min']:.0f},"
            f" {_percent(ours['weighted_work_min'], theirs['weighted_work_min'])}; weighted "
            f"visits {ours['weighted_assigned']} vs {theirs['weighted_assigned']}; "
            f"km/visit {ours['km_per_visit']:.2f} vs {theirs['km_per_visit']:.2f}, "
            f"{_percent(ours['km_per_visit'], theirs['km_per_visit'])})")
    for solver, items in notes.items():
        for item in items:
            lines.append(f"  {solver} violation: {item}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", action="append", type=parse_size,
                        help="TECHSxVISITS[xDAYS] or a scenario name "
                             f"({', '.join(SCENARIOS)}); repeatable; default: "
                             f"{', '.join(DEFAULT_SCENARIOS)}")
    parser.add_argument("--seeds", default="1", help="generator seeds, comma-separated")
    parser.add_argument("--time-limit", type=float,
                        help="seconds per solver (default: 20 for 25x150, else 60)")
    parser.add_argument("--solver-seed", type=int, default=0)
    parser.add_argument("--no-ours", action="store_true")
    parser.add_argument("--no-vroom", action="store_true")
    parser.add_argument("--vroom-exploration", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--vroom-threads", type=int, default=2)
    parser.add_argument("--vroom-priority", choices=["work", "weight"], default="work")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="extra request option for our solver (JSON value); repeatable")
    parser.add_argument("--search", action="append", default=[], metavar="PROTO_TEXT",
                        help="tuning experiment: OR-Tools RoutingSearchParameters text merged "
                             "into ours, e.g. 'local_search_metaheuristic: "
                             "SIMULATED_ANNEALING'; repeatable")
    parser.add_argument("--json", type=Path, help="append one JSON line per run to this file")
    args = parser.parse_args(argv)
    sizes = args.size or [SCENARIOS[name] for name in DEFAULT_SCENARIOS]
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds {args.seeds!r}: expected integers separated by commas")
    extra: dict = {}
    for pair in args.option:
        key, sep, value = pair.partition("=")
        if not sep:
            parser.error(f"--option {pair!r}: expected name=value")
        try:
            extra[key] = json.loads(value)
        except json.JSONDecodeError:
            extra[key] = value
    validate = load_validator()
    patch_search_parameters(args.search)

    print(machine_header())
    print(f"VROOM: exploration {args.vroom_exploration}, {args.vroom_threads} threads, "
          f"priority mode {args.vroom_priority}; extra options for ours: {extra or 'none'}; "
          f"search parameter experiments: {args.search or 'none'}\n")
    for technicians, appointments, days, default_limit in sizes:
        limit = args.time_limit or default_limit
        for seed in seeds:
            dataset = generate_day(technicians, appointments, days=days, seed=seed)
            request = dataset.request.model_copy(deep=True)
            request.options = request.options.model_copy(
                update={"time_limit_s": limit, "seed": args.solver_seed, **extra})
            request = PlanRequest.model_validate(request.model_dump(by_alias=True))
            summaries: dict[str, dict] = {}
            notes: dict[str, list[str]] = {}
            if not args.no_ours:
                run = solve_ours(request, limit, args.solver_seed)
                summaries["ours"] = summarise(request, run, validate)
                notes["ours"] = run.notes
            if not args.no_vroom:
                run = solve_vroom(request, limit, args.vroom_exploration, args.vroom_threads,
                                  args.vroom_priority)
                summaries["vroom"] = summarise(request, run, validate)
                notes["vroom"] = run.notes
            title = (f"== {technicians} technicians x {appointments} visits, {days} day(s), "
                     f"generator seed {seed}, time limit {limit:g} s ==")
            print(report(title, request, summaries, notes), flush=True)
            print()
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps({"technicians": technicians, "appointments": appointments,
                                        "days": days, "seed": seed, "time_limit_s": limit,
                                        "options": extra, "search": args.search,
                                        "results": summaries},
                                       default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
