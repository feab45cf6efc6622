"""Which OR-Tools first-solution strategy a request gets (when OR-Tools builds the first plan).

Measured with ``tests/benchmarks/solomon.py`` on C101, C201, R101, R105, R201,
R205, RC101, RC201 at 10 s, both runs side by side on a shared 2-core machine
(same CPU seconds): mean gap to the distance-only reference 3.00 % / 3.19 %
(seeds 0 / 1) with parallel cheapest insertion, 2.75 % / 2.92 % with local
cheapest insertion. On generated field days (lunch breaks, AM/PM and slot
windows, skills) local cheapest insertion measured neutral to slightly worse, so
those keep parallel cheapest insertion: local cheapest insertion is chosen only
for requests like the ones it was measured better on, with no breaks and no
visit offering several windows.
"""

from __future__ import annotations

from optimiser.problem import Problem
from optimiser.search import FirstSolution


def first_solution_strategy(problem: Problem) -> int:
    """LOCAL_CHEAPEST_INSERTION for break-free, single-window requests; else PARALLEL."""
    request = problem.request
    has_breaks = any(shift.breaks for tech in request.technicians for shift in tech.shifts)
    several_windows = any(len(a.windows) > 1 for a in request.appointments)
    if has_breaks or several_windows:
        return FirstSolution.PARALLEL_CHEAPEST_INSERTION
    return FirstSolution.LOCAL_CHEAPEST_INSERTION
