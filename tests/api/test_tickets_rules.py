"""Pure ticket rules (no database): the transition table and the priority matrix."""

import pytest

from api.tickets import lifecycle, priority
from api.tickets.lifecycle import ON_HOLD, SYSTEM, TRANSITIONS, Status


def test_main_path_is_walkable_by_an_agent():
    path = [
        Status.received, Status.validated, Status.recorded, Status.screened,
        Status.prioritised, Status.assigned, Status.escalated, Status.resolved, Status.closed,
    ]  # fmt: skip
    for current, nxt in zip(path, path[1:], strict=False):
        roles = lifecycle.roles_for(current, nxt)
        assert roles is not None and "agent" in roles, (current, nxt)


def test_holds_go_back_and_forth_from_assigned():
    for hold in ON_HOLD:
        assert lifecycle.roles_for(Status.assigned, hold) is not None
        assert lifecycle.roles_for(hold, Status.assigned) is not None


def test_reopen_and_terminal_states():
    assert lifecycle.is_reopen(Status.resolved, Status.assigned)
    assert lifecycle.roles_for(Status.resolved, Status.assigned) is not None
    assert lifecycle.allowed_targets(Status.closed) == []
    assert lifecycle.allowed_targets(Status.cancelled) == []


def test_skipping_the_intake_pipeline_is_not_an_edge():
    assert lifecycle.roles_for(Status.received, Status.assigned) is None
    assert lifecycle.allowed_targets(Status.received) == ["cancelled", "validated"]


def test_only_admins_cancel_work_in_progress_and_only_the_job_is_system():
    assert lifecycle.roles_for(Status.assigned, Status.cancelled) == {"admin"}
    assert "agent" in lifecycle.roles_for(Status.received, Status.cancelled)
    system_edges = {edge for edge, roles in TRANSITIONS.items() if SYSTEM in roles}
    assert system_edges == {
        (Status.assigned, Status.escalated),
        (Status.resolved, Status.closed),
    }


def test_no_role_outside_the_known_ones():
    known = {"admin", "agent", "dispatcher", "technician", "integration", SYSTEM}
    for roles in TRANSITIONS.values():
        assert roles <= known


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [(1, 1, 1), (1, 2, 2), (2, 1, 2), (1, 3, 3), (2, 2, 3), (3, 1, 3), (2, 3, 4), (3, 2, 4),
     (3, 3, 5)],
)  # fmt: skip
def test_default_matrix_is_servicenow(impact, urgency, expected):
    assert priority.derive_priority(priority.DEFAULT_MATRIX, impact=impact, urgency=urgency) == (
        expected
    )


def test_matrix_is_data_not_code():
    custom = dict(priority.DEFAULT_MATRIX)
    custom[(3, 3)] = 4
    assert priority.derive_priority(custom, impact=3, urgency=3) == 4
    with pytest.raises(LookupError):
        priority.derive_priority({}, impact=1, urgency=1)


def test_matrix_validation_names_the_cell():
    assert priority.matrix_problems(priority.DEFAULT_MATRIX) == []
    incomplete = {k: v for k, v in priority.DEFAULT_MATRIX.items() if k != (2, 2)}
    assert priority.matrix_problems(incomplete) == [("cells[2,2]", "missing cell")]
    out_of_range = dict(priority.DEFAULT_MATRIX) | {(1, 1): 9}
    assert ("cells[1,1]", "priority must be 1..5") in priority.matrix_problems(out_of_range)
    inverted = dict(priority.DEFAULT_MATRIX) | {(3, 3): 1}
    assert priority.matrix_problems(inverted)
