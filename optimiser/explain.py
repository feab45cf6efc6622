"""Why each appointment left out of the plan is left out.

Reasons decided before the search (eligibility) come first. An appointment
that was plannable but dropped by the search could, by construction, be done
ALONE in the empty day of each of its eligible vehicles (eligibility checked
exactly that), so it is ``capacity``: it did not fit alongside the other work.
Should a dropped appointment have no eligible vehicle left (not expected), it
is reported as ``window_unreachable``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optimiser.eligibility import Eligibility
from optimiser.problem import Problem
from optimiser.schema import Unassigned


def _dropped_detail(problem: Problem, eligibility: Eligibility,
                    routed: Mapping[int, Sequence[int]]) -> str:
    request = problem.request
    priority = request.appointments[eligibility.appointment].priority
    techs: list[str] = []
    for v in eligibility.vehicles:
        label = problem.vehicles[v].technician_id
        if label not in techs:
            techs.append(label)
    if len(techs) == 1:
        who = f"{techs[0]}'s"
    elif len(techs) == 2:
        who = f"{techs[0]}'s or {techs[1]}'s"
    else:
        who = f"any of the {len(techs)} eligible technicians'"
    busy = [a for v in eligibility.vehicles for a in routed.get(v, ())]
    if not busy:
        return (f"fits alone in {who} day, but the search found no place for it in the time "
                f"available")
    higher = sum(1 for a in busy if request.appointments[a].priority < priority)
    same = sum(1 for a in busy if request.appointments[a].priority == priority)
    if higher:
        context = f"alongside higher-priority work ({higher} higher-priority visit(s) planned)"
    elif same:
        context = f"alongside the {same} other visit(s) of the same priority planned there"
    else:
        context = "alongside the other planned work"
    return f"fits alone in {who} day but not {context}"


def explain_unassigned(problem: Problem, eligibility: Sequence[Eligibility],
                       routed: Mapping[int, Sequence[int]]) -> list[Unassigned]:
    """Unassigned entries, in request order, for every appointment not in ``routed``.

    ``routed`` maps vehicle index to the appointments (request indices) it visits.
    """
    placed = {a for visits in routed.values() for a in visits}
    result = []
    for item in eligibility:
        if item.appointment in placed:
            continue
        appointment_id = problem.request.appointments[item.appointment].id
        if item.blocked is not None:
            result.append(Unassigned(appointment_id=appointment_id, reason=item.blocked.reason,
                                     detail=item.blocked.detail))
        elif item.vehicles:
            result.append(Unassigned(appointment_id=appointment_id, reason="capacity",
                                     detail=_dropped_detail(problem, item, routed)))
        else:
            result.append(Unassigned(appointment_id=appointment_id, reason="window_unreachable",
                                     detail="no technician can do it even alone in an empty day"))
    return result
