"""The first-solution strategy follows the request's shape (see optimiser.first_solution)."""

from __future__ import annotations

from optimiser.first_solution import first_solution_strategy
from optimiser.problem import compile_problem
from optimiser.search import FirstSolution
from tests.optimiser.conftest import appt, lunch, make_request, tech, window


def _strategy(request) -> int:
    return first_solution_strategy(compile_problem(request))


def test_break_free_single_window_requests_use_local_cheapest_insertion():
    request = make_request([tech()], [appt("A1", windows=[window("09:00", "11:00")]), appt("A2")])
    assert _strategy(request) == FirstSolution.LOCAL_CHEAPEST_INSERTION


def test_breaks_or_several_windows_keep_parallel_cheapest_insertion():
    with_break = make_request([tech(breaks=[lunch()])], [appt("A1")])
    two_windows = make_request([tech()], [appt("A1", windows=[window("09:00", "10:00"),
                                                              window("14:00", "15:00")])])
    assert _strategy(with_break) == FirstSolution.PARALLEL_CHEAPEST_INSERTION
    assert _strategy(two_windows) == FirstSolution.PARALLEL_CHEAPEST_INSERTION
