"""Ruin-and-recreate speed on generated field days: iterations a second, and the cost fall.

From the greedy first plan (``optimiser.construct``), ruin and recreate runs for
``--seconds`` on each generated day; printed per day are the iterations run, the
iterations a second, and the plan's cost (travel, lateness, overtime, drop
penalties, in objective units) before and after. The kernel is loaded (or compiled)
before the clock starts. Runs one day at a time on one core; the machine is shared,
so compare rates measured in the same run.

    .venv/bin/python tests/benchmarks/ruin_recreate.py [--size 25x150] [--seeds 1,2,3] [--seconds 5]

Not run by CI. (The Python loop it replaced ran about 1,100 iterations a second on
25 x 150, seed 2.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data.generate import generate_day  # noqa: E402
from optimiser.construct import construct_routes  # noqa: E402
from optimiser.eligibility import assess  # noqa: E402
from optimiser.model import build_model  # noqa: E402
from optimiser.problem import compile_problem  # noqa: E402
from optimiser.ruin_recreate import CompiledSearch, ruin_and_recreate, warm_up  # noqa: E402
from tests.benchmarks.common import machine_header  # noqa: E402


def measure(technicians: int, appointments: int, seed: int, seconds: float) -> dict:
    request = generate_day(technicians, appointments, days=1, seed=seed).request
    problem = compile_problem(request)
    eligibility = assess(problem)
    built = build_model(problem, eligibility)
    routes = construct_routes(problem, built.nodes, eligibility)
    before = CompiledSearch(problem, built.nodes, eligibility, built.penalties, routes, seed)
    started = time.perf_counter()
    best, iterations = ruin_and_recreate(problem, built.nodes, eligibility, built.penalties,
                                         routes, deadline=started + seconds, seed=seed)
    took = time.perf_counter() - started
    after = CompiledSearch(problem, built.nodes, eligibility, built.penalties, best, seed)
    return {"seed": seed, "iterations": iterations, "per_s": iterations / took,
            "before": before.total, "after": after.total,
            "routed": sum(len(r) for r in best), "routed_before": sum(len(r) for r in routes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="25x150", help="technicians x appointments")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    technicians, appointments = map(int, args.size.split("x"))
    print(machine_header())
    loading = time.perf_counter()
    warm_up()
    print(f"kernel ready after {time.perf_counter() - loading:.1f} s (cache load or compile)")
    print(f"{'seed':>4} {'iterations':>10} {'per s':>8} {'cost before':>14} {'cost after':>14} "
          f"{'fall %':>7} {'routed':>9}")
    for seed in map(int, args.seeds.split(",")):
        row = measure(technicians, appointments, seed, args.seconds)
        fall = 100 * (row["before"] - row["after"]) / max(row["before"], 1)
        print(f"{seed:>4} {row['iterations']:>10} {row['per_s']:>8.0f} {row['before']:>14} "
              f"{row['after']:>14} {fall:>7.1f} {row['routed_before']:>4}->{row['routed']:<4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
