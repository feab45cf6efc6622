"""solve() never passes off "OR-Tools returned nothing" as an empty feasible plan."""

from __future__ import annotations

import pytest

import optimiser.solver as solver_module
from optimiser import solve
from optimiser.solver import SolverFailure
from tests.optimiser.conftest import appt, make_request


def test_rejected_search_parameters_raise_instead_of_an_empty_plan(monkeypatch):
    original = solver_module.search_parameters

    def iterated_local_search_without_ruin(*args, **kwargs):
        params = original(*args, **kwargs)
        params.use_iterated_local_search = True  # rejected by OR-Tools without ruin strategies
        return params

    monkeypatch.setattr(solver_module, "search_parameters", iterated_local_search_without_ruin)
    request = make_request(appointments=[appt("A1"), appt("A2")], time_limit_s=2)
    with pytest.raises(SolverFailure, match="ROUTING_INVALID|ROUTING_FAIL"):
        solve(request)


def test_the_same_request_plans_normally():
    request = make_request(appointments=[appt("A1"), appt("A2")], time_limit_s=2)
    assert solve(request).kpis.assigned == 2
