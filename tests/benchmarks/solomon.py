"""Solomon / Gehring-Homberger VRPTW: our optimiser against best-known solutions, PyVRP, VROOM.

Each instance becomes a matrix-mode plan request (one time unit = one minute;
travel time and distance = exact Euclidean distance; the depot's horizon is
every vehicle's shift; capacity and demand; no breaks), is solved with a time
limit, validated with ``optimiser.validate.validate_plan`` and re-checked here
with exact arithmetic. PyVRP and VROOM solve the same instance in the same run
on x1000 integer data (durations rounded UP, so their plans stay feasible with
exact times); their distances are recomputed exactly from their routes.

Gaps: ``gap%`` is against ``bks.csv`` (hierarchical: fewest vehicles, then
distance); ``dgap%`` against ``routes_distance_double`` of
``bks_distance_only.csv`` (distance-only optimum evaluated in exact doubles),
the fair reference for solvers that minimise distance only. See
``shared/bench/README.md``.

    .venv/bin/python tests/benchmarks/solomon.py --instances R101,C101 --time-limit 10
    .venv/bin/python tests/benchmarks/solomon.py --set 200 --instances C1_2_1 --no-vroom
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from optimiser.schema import (  # noqa: E402
    Appointment,
    Location,
    Options,
    PlanRequest,
    Shift,
    Technician,
    TimeWindow,
    Travel,
)
from tests.benchmarks.common import (  # noqa: E402
    SHARED,
    format_table,
    load_solver,
    load_validator,
    machine_header,
    patch_search_parameters,
)

BENCH = SHARED / "bench"
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # time 0 of every instance
SCALE = 1000  # integer data for PyVRP and VROOM
EPS = 1e-6


@dataclass(frozen=True)
class Instance:
    """A Solomon-format VRPTW instance; node 0 is the depot."""

    name: str
    vehicles: int
    capacity: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.x)

    def dist(self, i: int, j: int) -> float:
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])


def parse_instance(path: Path) -> Instance:
    """Solomon text format: fleet line after VEHICLE, then rows of 7 integers."""
    lines = path.read_text().splitlines()
    name = lines[0].strip()
    vehicles = capacity = None
    rows: list[list[int]] = []
    for line in lines[1:]:
        parts = line.split()
        if not all(p.lstrip("-").isdigit() for p in parts) or not parts:
            continue
        if len(parts) == 2 and vehicles is None:
            vehicles, capacity = int(parts[0]), int(parts[1])
        elif len(parts) == 7:
            rows.append([int(p) for p in parts])
    if vehicles is None or not rows:
        raise ValueError(f"{path}: not a Solomon-format instance")
    columns = list(zip(*rows, strict=True))
    return Instance(name=name.upper(), vehicles=vehicles, capacity=capacity,
                    x=columns[1], y=columns[2], demand=columns[3], ready=columns[4],
                    due=columns[5], service=columns[6])


def instance_paths(which: str, names: list[str] | None) -> list[Path]:
    folder = BENCH / "solomon" if which == "solomon" else BENCH / "homberger" / which
    if names:
        paths = []
        for name in names:
            file_name = f"{name.upper()}.txt" if which == "solomon" else f"{name.lower()}.txt"
            path = folder / file_name
            if not path.exists():
                raise SystemExit(f"--instances: no instance {name!r} in {folder}")
            paths.append(path)
        return paths
    return sorted(folder.glob("*.txt"), key=_natural_key)


def _natural_key(path: Path) -> tuple:
    parts = path.stem.upper().replace("_", " ").split()
    return tuple(int(p) if p.isdigit() else p for p in parts) if len(parts) > 1 else \
        (path.stem[:-3].upper(), int(path.stem[-3:]))


def read_bks() -> tuple[dict[str, dict], dict[str, dict]]:
    with open(BENCH / "bks.csv", newline="") as f:
        hierarchical = {row["instance"]: row for row in csv.DictReader(f)}
    with open(BENCH / "bks_distance_only.csv", newline="") as f:
        distance_only = {row["instance"]: row for row in csv.DictReader(f)}
    return hierarchical, distance_only


# --------------------------------------------------------------------------- checking


@dataclass
class Outcome:
    routes: int
    distance: float
    served_all: bool
    feasible: bool  # exact-arithmetic check of windows, horizon, capacity, visits
    seconds: float
    problems: str = ""
    cpu_s: float | None = None  # process CPU time (all threads): the machine is shared


def check_routes(inst: Instance, routes: list[list[int]], seconds: float) -> Outcome:
    """Exact Euclidean distance and feasibility of customer sequences (depot implicit)."""
    problems: list[str] = []
    seen: list[int] = [c for route in routes for c in route]
    if len(seen) != len(set(seen)):
        problems.append("a customer is visited twice")
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        problems.append(f"{len(used)} routes > fleet {inst.vehicles}")
    total = 0.0
    for route in used:
        t, previous, load = float(inst.ready[0]), 0, 0
        for customer in route:
            total += inst.dist(previous, customer)
            t = max(t + inst.dist(previous, customer), inst.ready[customer])
            if t > inst.due[customer] + EPS:
                problems.append(f"customer {customer} starts {t - inst.due[customer]:.4f} late")
            t += inst.service[customer]
            load += inst.demand[customer]
            previous = customer
        total += inst.dist(previous, 0)
        if t + inst.dist(previous, 0) > inst.due[0] + EPS:
            problems.append("a route returns after the depot closes")
        if load > inst.capacity:
            problems.append(f"load {load} > capacity {inst.capacity}")
    served_all = set(seen) == set(range(1, inst.size))
    return Outcome(routes=len(used), distance=total, served_all=served_all,
                   feasible=not problems, seconds=seconds, problems="; ".join(problems[:3]))


# --------------------------------------------------------------------------- our optimiser


def to_request(inst: Instance, time_limit_s: float, seed: int,
               extra_options: dict | None = None) -> PlanRequest:
    """The instance in the exchange format (matrix travel model, minutes)."""
    def at(minutes: float) -> datetime:
        return EPOCH + timedelta(minutes=minutes)

    matrix = [[inst.dist(i, j) for j in range(inst.size)] for i in range(inst.size)]
    shift = Shift(start=at(inst.ready[0]), end=at(inst.due[0]))
    technicians = [
        Technician(id=f"V{v + 1:03d}", start_location=Location(index=0), shifts=[shift],
                   capacity=inst.capacity)
        for v in range(inst.vehicles)
    ]
    appointments = [
        Appointment(id=f"C{i}", location=Location(index=i), duration_min=inst.service[i],
                    windows=[TimeWindow(start=at(inst.ready[i]), end=at(inst.due[i]))],
                    demand=inst.demand[i])
        for i in range(1, inst.size)
    ]
    options = Options(time_limit_s=time_limit_s, seed=seed, **(extra_options or {}))
    return PlanRequest(technicians=technicians, appointments=appointments,
                       travel=Travel(model="matrix", durations_min=matrix, distances_km=matrix),
                       options=options)


def solve_ours(inst: Instance, time_limit_s: float, seed: int, extra_options: dict | None
               ) -> tuple[Outcome, int | None, float]:
    """(outcome, number of validator violations or None, distance the plan reports)."""
    solve = load_solver()
    request = to_request(inst, time_limit_s, seed, extra_options)
    started, cpu_started = time.perf_counter(), time.process_time()
    plan = solve(request, time_limit_s=time_limit_s, seed=seed)
    seconds = time.perf_counter() - started
    routes = [[int(stop.appointment_id[1:]) for stop in route.stops] for route in plan.routes]
    outcome = check_routes(inst, routes, seconds)
    outcome.cpu_s = time.process_time() - cpu_started
    if plan.status != "feasible":
        outcome.feasible = False
        outcome.problems = f"status {plan.status}: {plan.error}"
    validate = load_validator()
    violations = None
    if validate is not None:
        found = validate(request, plan)
        violations = len(found)
        if found and not outcome.problems:
            outcome.problems = "; ".join(str(v) for v in found[:2])
    return outcome, violations, sum(r.distance_km for r in plan.routes)


# --------------------------------------------------------------------------- PyVRP, VROOM


def _scaled(inst: Instance) -> tuple[list[list[int]], list[list[int]]]:
    """(distance rounded, duration rounded up) x SCALE: costs stay true, times conservative."""
    distance = [[round(inst.dist(i, j) * SCALE) for j in range(inst.size)]
                for i in range(inst.size)]
    duration = [[math.ceil(inst.dist(i, j) * SCALE - 1e-9) for j in range(inst.size)]
                for i in range(inst.size)]
    return distance, duration


def solve_pyvrp(inst: Instance, time_limit_s: float, seed: int,
                max_iterations: int | None = None) -> Outcome:
    """PyVRP for ``time_limit_s`` (or ``max_iterations``: load-independent, for tests)."""
    from pyvrp import Model
    from pyvrp.stop import MaxIterations, MaxRuntime

    distance, duration = _scaled(inst)
    model = Model()
    locations = [model.add_location(inst.x[i], inst.y[i]) for i in range(inst.size)]
    model.add_depot(locations[0], tw_early=inst.ready[0] * SCALE, tw_late=inst.due[0] * SCALE)
    for i in range(1, inst.size):
        model.add_client(locations[i], delivery=inst.demand[i],
                         service_duration=inst.service[i] * SCALE,
                         tw_early=inst.ready[i] * SCALE, tw_late=inst.due[i] * SCALE)
    model.add_vehicle_type(num_available=inst.vehicles, capacity=inst.capacity,
                           tw_early=inst.ready[0] * SCALE, tw_late=inst.due[0] * SCALE)
    for i, frm in enumerate(locations):
        for j, to in enumerate(locations):
            if i != j:
                model.add_edge(frm, to, distance=distance[i][j], duration=duration[i][j])
    started, cpu_started = time.perf_counter(), time.process_time()
    stop = MaxRuntime(time_limit_s) if max_iterations is None else MaxIterations(max_iterations)
    result = model.solve(stop, seed=seed, display=False)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    # Clients are numbered 0.. in the order added, i.e. customer i is client i - 1.
    routes = [[a.idx + 1 for a in route.schedule() if a.is_client()]
              for route in result.best.routes()]
    outcome = check_routes(inst, routes, seconds)
    outcome.cpu_s = cpu_s
    if not result.best.is_feasible():
        outcome.feasible = False
    return outcome


def solve_vroom(inst: Instance, time_limit_s: float, threads: int) -> Outcome:
    import numpy as np
    import vroom

    distance, duration = _scaled(inst)
    problem = vroom.Input()
    problem.set_durations_matrix("car", np.array(duration, dtype=np.uint32))
    problem.set_costs_matrix("car", np.array(distance, dtype=np.uint32))
    horizon = vroom.TimeWindow(inst.ready[0] * SCALE, inst.due[0] * SCALE)
    for v in range(inst.vehicles):
        problem.add_vehicle(vroom.Vehicle(v + 1, start=0, end=0, capacity=[inst.capacity],
                                          time_window=horizon))
    problem.add_job([
        vroom.Job(i, location=i, default_service=inst.service[i] * SCALE,
                  delivery=[inst.demand[i]],
                  time_windows=[vroom.TimeWindow(inst.ready[i] * SCALE, inst.due[i] * SCALE)])
        for i in range(1, inst.size)
    ])
    started, cpu_started = time.perf_counter(), time.process_time()
    solution = problem.solve(exploration_level=5, nb_threads=threads,
                             timeout=timedelta(seconds=time_limit_s))
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes = [[int(j) for j in group["id"]] for _, group in jobs.groupby("vehicle_id", sort=True)]
    outcome = check_routes(inst, routes, seconds)
    outcome.cpu_s = cpu_s
    return outcome


# --------------------------------------------------------------------------- main


def _gap(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return 100.0 * (value - reference) / reference


def _parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if not key or not _:
            raise SystemExit(f"--option {pair!r}: expected name=value")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="solomon",
                        choices=["solomon", "200", "400", "600", "800", "1000"])
    parser.add_argument("--instances", help="comma-separated names, e.g. R101,C101")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solver")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="VROOM threads")
    parser.add_argument("--no-ours", action="store_true")
    parser.add_argument("--no-pyvrp", action="store_true")
    parser.add_argument("--no-vroom", action="store_true")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="extra request option for our solver (JSON value); repeatable")
    parser.add_argument("--search", action="append", default=[], metavar="PROTO_TEXT",
                        help="tuning experiment: OR-Tools RoutingSearchParameters text merged "
                             "into ours, e.g. 'local_search_metaheuristic: "
                             "SIMULATED_ANNEALING'; repeatable")
    parser.add_argument("--csv", type=Path, help="write every figure to this CSV file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.instances.split(",")] if args.instances else None
    paths = instance_paths(args.set, names)
    extra = _parse_options(args.option)
    patch_search_parameters(args.search)
    bks, bks_distance = read_bks()

    print(machine_header())
    print(f"set {args.set}, {len(paths)} instance(s), time limit {args.time_limit:g} s per "
          f"solver, seed {args.seed}; extra options {extra or 'none'}; search parameter "
          f"experiments {args.search or 'none'}")
    print("gap% vs bks.csv (hierarchical: vehicles first), dgap% vs bks_distance_only.csv "
          "routes_distance_double (exact-double distance-only reference)\n")
    rows: list[dict] = []
    for path in paths:
        inst = parse_instance(path)
        ref = bks.get(inst.name, {})
        ref_distance = float(ref["distance"]) if ref else None
        dref = bks_distance.get(inst.name, {})
        dref_distance = float(dref["routes_distance_double"]) if dref else None
        row: dict = {"instance": inst.name, "bks_veh": int(ref["vehicles"]) if ref else None,
                     "bks_dist": ref_distance, "donly_dist": dref_distance}
        solvers = [label for label, off in (("ours", args.no_ours), ("pyvrp", args.no_pyvrp),
                                            ("vroom", args.no_vroom)) if not off]
        for label in solvers:
            violations = reported = None
            if label == "ours":
                outcome, violations, reported = solve_ours(inst, args.time_limit, args.seed,
                                                           extra)
            elif label == "pyvrp":
                outcome = solve_pyvrp(inst, args.time_limit, args.seed)
            else:
                outcome = solve_vroom(inst, args.time_limit, args.threads)
            row.update({
                f"{label}_routes": outcome.routes,
                f"{label}_dist": outcome.distance,
                f"{label}_gap": _gap(outcome.distance, ref_distance),
                f"{label}_dgap": _gap(outcome.distance, dref_distance),
                f"{label}_all": outcome.served_all,
                f"{label}_ok": outcome.feasible,
                f"{label}_s": outcome.seconds,
                f"{label}_cpu": outcome.cpu_s,
                f"{label}_problems": outcome.problems,
            })
            if label == "ours":
                row["ours_viol"] = violations
                row["ours_reported_dist"] = reported
        rows.append(row)
        print(_row_line(row, solvers), flush=True)

    columns = ["instance", "bks_veh", "bks_dist", "donly_dist"]
    for label in ("ours", "pyvrp", "vroom"):
        if f"{label}_dist" in rows[0]:
            columns += [f"{label}_routes", f"{label}_dist", f"{label}_gap", f"{label}_dgap",
                        f"{label}_all", f"{label}_ok", f"{label}_s", f"{label}_cpu"]
            if label == "ours":
                columns.append("ours_viol")
    print()
    print(format_table(rows, columns))
    print()
    for label in ("ours", "pyvrp", "vroom"):
        if f"{label}_dist" not in rows[0]:
            continue
        gaps = [r[f"{label}_gap"] for r in rows if r[f"{label}_gap"] is not None]
        dgaps = [r[f"{label}_dgap"] for r in rows if r[f"{label}_dgap"] is not None]
        all_served = sum(1 for r in rows if r[f"{label}_all"])
        feasible = sum(1 for r in rows if r[f"{label}_ok"])
        extra_routes = sum(1 for r in rows if r["bks_veh"] and r[f"{label}_routes"] > r["bks_veh"])
        print(f"{label:>5}: mean gap {statistics.mean(gaps):6.2f} % (bks.csv, {len(gaps)} "
              f"instances), mean dgap {statistics.mean(dgaps):6.2f} % (distance-only ref), "
              f"all served {all_served}/{len(rows)}, feasible {feasible}/{len(rows)}, "
              f"more routes than BKS on {extra_routes}, "
              f"mean time {statistics.mean(r[f'{label}_s'] for r in rows):.1f} s wall, "
              f"{statistics.mean(r[f'{label}_cpu'] for r in rows):.1f} s CPU")
        problems = [f"{r['instance']}: {r[f'{label}_problems']}" for r in rows
                    if r[f"{label}_problems"]]
        for line in problems[:10]:
            print(f"       problem {line}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.csv}")
    return 0


def _row_line(row: dict, solvers: list[str]) -> str:
    parts = [f"{row['instance']:>9} BKS {row['bks_veh']}/{row['bks_dist']}"]
    for label in solvers:
        gap = row[f"{label}_gap"]
        parts.append(f"{label} {row[f'{label}_routes']}/{row[f'{label}_dist']:.2f} "
                     f"({'-' if gap is None else f'{gap:+.2f}%'}"
                     f"{'' if row[f'{label}_all'] else ', NOT ALL SERVED'}"
                     f"{'' if row[f'{label}_ok'] else ', INFEASIBLE'}) "
                     f"{row[f'{label}_s']:.1f}s/{row[f'{label}_cpu']:.1f}cpu")
    return " | ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
