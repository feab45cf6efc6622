"""Ruin and recreate on whole strings of visits, between two OR-Tools searches.

Why: on generated 25 x 150 field days (two-hour and AM/PM windows, lunch
breaks, skills) guided local search stops improving after 5-9 s of a 20 s
budget. Its operators move one or two visits at a time, and with tight windows
nearly every such move is infeasible: of 19 million neighbours in 20 s the
filters rejected all but 427. Removing strings of neighbouring visits from a
few routes at once and inserting them again, most important first, each where
it costs least (SISR, Christiaens & Vanden Berghe 2020), reaches plans those
single moves cannot.

Routes are simulated on the model's integer clock as ``optimiser.construct``
does (breaks are pseudo-stops taken where the technician is), and priced like
the routing model's objective: travel, overtime past the shift end, SLA
lateness by priority, preferred-technician surcharges, and each left-out
visit's drop penalty. The loop itself is compiled (``optimiser.rr_kernel``);
this module packs the problem into its arrays and runs it by the clock. The
result goes back to OR-Tools, which re-checks every hard rule, places the
breaks and times, and keeps searching from it.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from optimiser import rr_kernel
from optimiser.construct import Constructor
from optimiser.eligibility import Eligibility, assess
from optimiser.model import build_model
from optimiser.model.nodes import ModelNodes
from optimiser.problem import Problem, compile_problem
from optimiser.schema import PlanRequest

NEIGHBOURS = 40
"""Nearest visits considered when choosing the strings to remove around a seed visit."""

START_THRESHOLD = 0.01
"""Share of the first plan's travel cost by which a worse plan is still accepted at the
start; falls linearly to zero (threshold accepting)."""

CHUNK_S = 0.01
"""Seconds of compiled search between looks at the clock and the stop event."""

NOT_A_VISIT = -2
"""``route_of`` for depot nodes (-1 is a left-out visit, >= 0 the vehicle)."""

_ready = threading.Event()
_warming = threading.Lock()


def problem_arrays(problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility],
                   penalties: dict[int, int]) -> rr_kernel.KernelProblem:
    """The problem as the kernel's flat arrays."""
    c = Constructor(problem, nodes, eligibility)
    size, vehicles = nodes.size, len(problem.vehicles)
    request = problem.request
    iv_off = np.zeros(size + 1, dtype=np.int64)
    iv_lo: list[int] = []
    iv_hi: list[int] = []
    late_at = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    late_per = np.zeros(size, dtype=np.int64)
    demand = np.zeros(size, dtype=np.float64)
    penalty = np.zeros(size, dtype=np.int64)
    priority = np.zeros(size, dtype=np.int64)
    el_off = np.zeros(size + 1, dtype=np.int64)
    el_veh: list[int] = []
    for node in range(size):
        if node >= nodes.num_depots:
            appointment = nodes.appointments[node - nodes.num_depots]
            for lo, hi in c.intervals[node]:
                iv_lo.append(lo)
                iv_hi.append(hi)
            if node in c.late:
                late_at[node], late_per[node] = c.late[node]
            demand[node] = c.demand[node]
            priority[node] = request.appointments[appointment].priority
            penalty[node] = penalties[int(priority[node])]
            el_veh += sorted(eligibility[appointment].vehicles)
        iv_off[node + 1] = len(iv_lo)
        el_off[node + 1] = len(el_veh)
    surcharge = np.zeros((vehicles, size), dtype=np.int64)
    for v, route in enumerate(c.routes):
        if c.surcharge:
            surcharge[v] = c.surcharge[route.vehicle.technician_id]
    breaks = [route.breaks for route in c.routes]
    br_off = np.cumsum([0] + [len(b) for b in breaks]).astype(np.int64)
    flat = [b for spec in breaks for b in spec]
    visit_nodes = np.arange(nodes.num_depots, size)
    closeness = nodes.travel_s[np.ix_(visit_nodes, visit_nodes)]
    closeness = closeness + closeness.T
    width = min(NEIGHBOURS + 1, len(visit_nodes))
    near = np.full((size, width), -1, dtype=np.int64)
    order = np.argsort(closeness, axis=1, kind="stable")[:, :width]
    near[nodes.num_depots:] = visit_nodes[order]
    vehicle = problem.vehicles
    return rr_kernel.KernelProblem(
        np.asarray(c.travel, dtype=np.int64), np.asarray(c.service, dtype=np.int64),
        iv_off, np.asarray(iv_lo, dtype=np.int64), np.asarray(iv_hi, dtype=np.int64),
        late_at, late_per, surcharge,
        np.array([v.start_point for v in vehicle], dtype=np.int64),
        np.array([v.end_point for v in vehicle], dtype=np.int64),
        np.array([v.start for v in vehicle], dtype=np.int64),
        np.array([v.end for v in vehicle], dtype=np.int64),
        np.array([v.hard_end for v in vehicle], dtype=np.int64),
        np.array([np.inf if r.capacity is None else r.capacity for r in c.routes],
                 dtype=np.float64),
        br_off, np.array([b.start_min for b in flat], dtype=np.int64),
        np.array([b.start_max for b in flat], dtype=np.int64),
        np.array([b.duration for b in flat], dtype=np.int64),
        demand, penalty, priority, el_off, np.asarray(el_veh, dtype=np.int64), near,
        np.zeros(vehicles, dtype=np.bool_),
        np.array([c.weights.travel_per_s, c.weights.overtime_per_s], dtype=np.int64),
    )


class CompiledSearch:
    """Ruin-and-recreate state in the kernel's arrays, started from given routes.

    A route that cannot take its breaks as pseudo-stops is frozen: left as it is."""

    def __init__(self, problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility],
                 penalties: dict[int, int], routes: list[list[int]], seed: int) -> None:
        self.P = problem_arrays(problem, nodes, eligibility, penalties)
        frozen, demand, penalty = self.P.frozen, self.P.demand, self.P.penalty
        vehicles, size = len(routes), nodes.size
        width = (size - nodes.num_depots) + int(np.diff(self.P.br_off).max(initial=0)) + 1
        seq = np.zeros((vehicles, width), dtype=np.int64)
        length = np.zeros(vehicles, dtype=np.int64)
        cost = np.zeros(vehicles, dtype=np.int64)
        load = np.zeros(vehicles, dtype=np.float64)
        route_of = np.full(size, -1, dtype=np.int64)
        route_of[:nodes.num_depots] = NOT_A_VISIT
        for v, visits in enumerate(routes):
            given = np.asarray(visits, dtype=np.int64)
            placed, n = rr_kernel.with_breaks(self.P, v, given, len(given), seq[v])
            if placed == rr_kernel.INFEASIBLE:
                frozen[v] = True
                seq[v, :len(given)] = given
                n, placed = len(given), 0
            length[v], cost[v] = n, placed
            load[v] = demand[given].sum() if len(given) else 0.0
            route_of[given] = v
        total = int(cost.sum() + penalty[route_of == -1].sum())
        self.S = rr_kernel.KernelState(
            seq=seq, length=length, cost=cost, load=load, route_of=route_of,
            tseq=seq.copy(), tlen=length.copy(), tcost=cost.copy(), tload=load.copy(),
            troute_of=route_of.copy(), stamp=np.zeros(vehicles, dtype=np.int64),
            changed=np.zeros(vehicles, dtype=np.int64), counters=np.zeros(2, dtype=np.int64),
            best_seq=seq.copy(), best_len=length.copy(),
            best_total=np.array([total], dtype=np.int64),
            total=np.array([total], dtype=np.int64))
        rr_kernel.seed_random(seed)

    def cost(self, vehicle: int, sequence: list[int]) -> int | None:
        """A route's objective cost by the kernel's rules, or None when it breaks a hard rule."""
        given = np.asarray(sequence, dtype=np.int64)
        cost = rr_kernel.route_cost(self.P, vehicle, given, len(given))
        return None if cost == rr_kernel.INFEASIBLE else int(cost)

    @property
    def total(self) -> int:
        """Cost of the current plan: routes plus left-out visits' penalties."""
        return int(self.S.total[0])

    @property
    def best_total(self) -> int:
        return int(self.S.best_total[0])

    @property
    def frozen(self) -> np.ndarray:
        """Per vehicle: True when its route could not take its breaks as pseudo-stops."""
        return self.P.frozen

    @property
    def travel_cost(self) -> int:
        return int(self.S.cost.sum())

    def run(self, iterations: int, threshold: float) -> int:
        """Run ``iterations`` steps; returns how many were kept."""
        return int(rr_kernel.run(self.P, self.S, iterations, float(threshold)))

    def best_visits(self) -> list[list[int]]:
        """The best plan so far: model nodes of visits per vehicle, breaks left out."""
        seq, length = self.S.best_seq, self.S.best_len
        return [[int(n) for n in seq[v, :length[v]] if n >= 0] for v in range(len(length))]


def _tiny_request() -> PlanRequest:
    """Two technicians with lunch breaks and three visits: enough to run every kernel path."""
    day = "2026-11-23T"
    shift = {"start": f"{day}08:00:00+00:00", "end": f"{day}17:00:00+00:00",
             "breaks": [{"earliest_start": f"{day}12:00:00+00:00",
                         "latest_end": f"{day}14:00:00+00:00", "duration_min": 30}]}
    home = {"lat": 51.5, "lon": -0.12}
    return PlanRequest.model_validate({
        "technicians": [{"id": f"T{k}", "skills": {}, "start_location": home,
                         "end_location": home, "shifts": [shift]} for k in range(2)],
        "appointments": [{"id": f"A{i}", "location": {"lat": 51.5 + i / 100, "lon": -0.12},
                          "duration_min": 30, "sla_due": f"{day}09:00:00+00:00",
                          "priority": 1 + i} for i in range(3)],
    })


def warm_up() -> None:
    """Compile the kernel, or load it from numba's on-disk cache, by running it once on a
    tiny day. Compiling takes 20-30 s the first time after an install or a change of
    ``rr_kernel``; loading the cache well under a second. Safe to call from any thread."""
    with _warming:
        if _ready.is_set():
            return
        problem = compile_problem(_tiny_request())
        eligibility = assess(problem)
        built = build_model(problem, eligibility)
        routes = [[] for _ in problem.vehicles]
        search = CompiledSearch(problem, built.nodes, eligibility, built.penalties, routes, 0)
        search.run(20, 0.0)
        search.cost(0, [])
        _ready.set()


def kernel_ready(wait_s: float = 0.0) -> bool:
    """True once the kernel can run without compiling. Otherwise starts ``warm_up`` in a
    background thread (once) and waits for it up to ``wait_s``: loading from the cache
    fits in that, compiling does not, and a solve never waits on the compiler.

    OR-Tools keeps the GIL while it searches, so the thread makes progress only while
    this waits or between searches."""
    if not _ready.is_set() and not _warming.locked():
        threading.Thread(target=warm_up, name="ruin-recreate-warm-up", daemon=True).start()
    return _ready.wait(wait_s)


def ruin_and_recreate(problem: Problem, nodes: ModelNodes, eligibility: list[Eligibility],
                      penalties: dict[int, int], routes: list[list[int]], *,
                      deadline: float, seed: int,
                      stop: threading.Event | None = None) -> tuple[list[list[int]], int]:
    """Improve ``routes`` (model nodes per vehicle) until ``deadline`` (perf_counter).

    Returns the best routes found and the number of iterations run.
    """
    search = CompiledSearch(problem, nodes, eligibility, penalties, routes, seed)
    travel = search.travel_cost
    started = time.perf_counter()
    span = max(deadline - started, 1e-6)
    iterations, chunk = 0, 8
    while (now := time.perf_counter()) < deadline and not (stop is not None and stop.is_set()):
        threshold = START_THRESHOLD * travel * max(0.0, 1 - (now - started) / span)
        search.run(chunk, threshold)
        iterations += chunk
        took = time.perf_counter() - now
        chunk = max(1, min(4 * chunk, int(chunk * CHUNK_S / max(took, 1e-6))))
    if iterations == 0:
        return [list(route) for route in routes], 0
    return search.best_visits(), iterations
