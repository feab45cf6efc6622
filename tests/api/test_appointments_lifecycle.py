"""The appointment transition table: every edge, every refusal, the role split."""

from __future__ import annotations

import itertools

import pytest

from api.appointments.lifecycle import (
    ASSIGNED_STATUSES,
    COMMITTED_STATUSES,
    FINAL_STATUSES,
    TRANSITIONS,
    AppointmentStatus,
    allowed_targets,
    is_allowed,
)

S = AppointmentStatus


def test_every_status_has_a_row_and_edges_point_to_statuses() -> None:
    assert set(TRANSITIONS) == set(S)
    for edges in TRANSITIONS.values():
        assert set(edges) <= set(S)


def test_final_statuses_are_completed_and_cancelled() -> None:
    assert {S.completed, S.cancelled} == FINAL_STATUSES
    for status in FINAL_STATUSES:
        assert allowed_targets(status) == []


def test_happy_path_is_allowed_in_order() -> None:
    path = [S.unscheduled, S.scheduled, S.dispatched, S.en_route, S.on_site, S.completed]
    for current, target in itertools.pairwise(path):
        assert is_allowed(current, target), (current, target)


@pytest.mark.parametrize(("current", "target"), [
    (S.unscheduled, S.dispatched),  # must be scheduled first
    (S.unscheduled, S.completed),
    (S.scheduled, S.on_site),
    (S.on_site, S.cancelled),  # work started: it ends completed or cannot_complete
    (S.completed, S.unscheduled),
    (S.cancelled, S.scheduled),
    (S.on_site, S.on_site),
])
def test_refused_edges(current: S, target: S) -> None:
    assert not is_allowed(current, target)
    assert str(target) not in allowed_targets(current)


def test_technician_moves_its_visit_forward_but_cannot_cancel_or_schedule() -> None:
    assert is_allowed(S.dispatched, S.en_route, "technician")
    assert is_allowed(S.en_route, S.on_site, "technician")
    assert is_allowed(S.on_site, S.completed, "technician")
    assert is_allowed(S.on_site, S.cannot_complete, "technician")
    assert not is_allowed(S.dispatched, S.cancelled, "technician")
    assert not is_allowed(S.unscheduled, S.scheduled, "technician")
    assert allowed_targets(S.dispatched, "technician") == ["en_route", "on_site",
                                                           "cannot_complete"]
    assert not is_allowed(S.unscheduled, S.scheduled, "agent")


def test_cannot_complete_is_requeued_by_the_office_only() -> None:
    assert allowed_targets(S.cannot_complete) == ["unscheduled"]
    assert allowed_targets(S.cannot_complete, "technician") == []


def test_status_groups() -> None:
    assert S.unscheduled not in ASSIGNED_STATUSES
    assert S.scheduled in ASSIGNED_STATUSES
    assert {S.dispatched, S.en_route, S.on_site} == COMMITTED_STATUSES
