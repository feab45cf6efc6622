"""The exchange format is strict: every bad request fails with an error naming the field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from optimiser.schema import Plan, PlanRequest

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "plan-format.md"


def base() -> dict:
    """A small valid request as JSON data (what the CLI and the API receive)."""
    return {
        "technicians": [{
            "id": "T1", "skills": {"hvac": 3},
            "start_location": {"lat": 51.5, "lon": -0.12},
            "shifts": [{"start": "2026-11-23T08:00:00+00:00", "end": "2026-11-23T17:00:00+00:00",
                        "breaks": [{"earliest_start": "2026-11-23T12:00:00+00:00",
                                    "latest_end": "2026-11-23T14:00:00+00:00",
                                    "duration_min": 30}]}],
        }],
        "entitlements": [{"id": "E1", "coverage": [{"days": ["mon"], "from": "08:00",
                                                     "to": "18:00"}],
                          "timezone": "Europe/London"}],
        "appointments": [{
            "id": "A1", "entitlement_id": "E1", "location": {"lat": 51.52, "lon": -0.10},
            "duration_min": 45, "required_skills": {"hvac": 2},
            "windows": [{"start": "2026-11-23T09:00:00+00:00",
                         "end": "2026-11-23T12:00:00+00:00"}],
            "sla_due": "2026-11-23T13:00:00+00:00",
        }],
    }


def error_of(data: dict) -> str:
    with pytest.raises(ValidationError) as caught:
        PlanRequest.model_validate(data)
    return str(caught.value)


def test_base_request_is_valid():
    request = PlanRequest.model_validate(base())
    assert request.travel.model == "haversine"
    assert (request.travel.speed_kmh, request.travel.road_factor) == (40, 1.3)
    assert request.options.time_limit_s == 30
    assert request.technicians[0].home_end == request.technicians[0].start_location


def test_spec_examples_parse():
    if not SPEC.exists():
        pytest.skip("shared/spec is not beside this checkout")
    blocks = re.findall(r"```json\n(.*?)```", SPEC.read_text(), flags=re.S)
    request = PlanRequest.model_validate(json.loads(blocks[0]))
    assert request.entitlements[0].coverage[0].from_ == "08:00"
    plan = Plan.model_validate(json.loads(blocks[1]))
    assert plan.to_json_dict()["routes"][0]["return"] == "2026-11-23T16:02:00Z"


@pytest.mark.parametrize(("where", "field"), [
    ((), "colour"),
    (("technicians", 0), "colour"),
    (("technicians", 0, "shifts", 0), "colour"),
    (("appointments", 0, "location"), "alt"),
    (("entitlements", 0, "coverage", 0), "note"),
    (("travel",), "avoid_tolls"),
    (("options",), "timelimit"),
])
def test_unknown_field_is_named(where, field):
    data = base()
    target = data
    for key in where:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    target[field] = 1
    text = error_of(data)
    assert ".".join(map(str, (*where, field))) in text
    assert "Extra inputs are not permitted" in text


@pytest.mark.parametrize("path", [
    ("appointments", 0, "sla_due"),
    ("appointments", 0, "windows", 0, "start"),
    ("technicians", 0, "shifts", 0, "end"),
    ("technicians", 0, "shifts", 0, "breaks", 0, "latest_end"),
])
def test_datetime_without_offset_is_refused(path):
    data = base()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = target[path[-1]].replace("+00:00", "")
    text = error_of(data)
    assert ".".join(map(str, path)) in text
    assert "timezone" in text


@pytest.mark.parametrize("kind", ["technicians", "appointments", "entitlements"])
def test_duplicate_ids_are_refused(kind):
    data = base()
    data[kind].append(copy.deepcopy(data[kind][0]))
    singular = kind[:-1]
    assert f"duplicate {singular} id {data[kind][0]['id']!r} at position 1" in error_of(data)


def test_unknown_references_are_named():
    data = base()
    data["appointments"][0]["entitlement_id"] = "E-NONE"
    assert "appointments[0] (A1).entitlement_id: unknown entitlement 'E-NONE'" in error_of(data)
    data = base()
    data["appointments"][0]["pinned_technician"] = "T9"
    assert "appointments[0] (A1).pinned_technician: unknown technician 'T9'" in error_of(data)


@pytest.mark.parametrize(("path", "value", "why"), [
    (("appointments", 0, "duration_min"), -5, "greater than or equal to 0"),
    (("appointments", 0, "priority"), 0, "greater than or equal to 1"),
    (("appointments", 0, "priority"), 6, "less than or equal to 5"),
    (("appointments", 0, "required_skills", "hvac"), 6, "less than or equal to 5"),
    (("appointments", 0, "demand"), -1, "greater than or equal to 0"),
    (("appointments", 0, "id"), "", "at least 1 character"),
    (("technicians", 0, "max_overtime_min"), -1, "greater than or equal to 0"),
    (("technicians", 0, "capacity"), -1, "greater than or equal to 0"),
    (("technicians", 0, "shifts"), [], "at least 1 item"),
    (("appointments", 0, "location", "lat"), 91, "less than or equal to 90"),
    (("entitlements", 0, "min_skill_level"), 0, "greater than or equal to 1"),
    (("entitlements", 0, "coverage", 0, "from"), "24:00", "should match pattern"),
    (("entitlements", 0, "coverage", 0, "to"), "18:60", "should match pattern"),
    (("entitlements", 0, "coverage", 0, "days"), ["monday"], "'mon'"),
    (("travel", "speed_kmh"), 0, "greater than 0"),
    (("options", "time_limit_s"), 0, "greater than 0"),
])
def test_out_of_range_values_name_the_field(path, value, why):
    data = base()
    target = data
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    target[path[-1]] = value
    text = error_of(data)
    assert ".".join(map(str, path)) in text
    assert why in text


@pytest.mark.parametrize(("path", "value", "why"), [
    (("appointments", 0, "windows", 0, "end"), "2026-11-23T08:00:00+00:00", "end is before start"),
    (("technicians", 0, "shifts", 0, "end"), "2026-11-23T08:00:00+00:00",
     "end must be after start"),
    (("technicians", 0, "shifts", 0, "breaks", 0, "duration_min"), 150,
     "duration_min 150 does not fit"),
    (("entitlements", 0, "timezone"), "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    (("appointments", 0, "location"), {"lat": 51.5}, "lat and lon must be given together"),
    (("appointments", 0, "location"), {}, "a location needs lat/lon or a matrix index"),
])
def test_inconsistent_objects_say_why(path, value, why):
    data = base()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    text = error_of(data)
    assert ".".join(map(str, path[:-1])) in text
    assert why in text


@pytest.mark.parametrize("path", [
    ("appointments", 0, "duration_min"),
    ("options", "time_limit_s"),
    ("travel", "speed_kmh"),
    ("technicians", 0, "max_overtime_min"),
])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_numbers_are_refused(path, value):
    data = base()
    target = data
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    target[path[-1]] = value
    text = error_of(data)
    assert ".".join(map(str, path)) in text
    assert "finite number" in text


def test_coverage_to_2400_is_allowed():
    data = base()
    data["entitlements"][0]["coverage"][0]["to"] = "24:00"
    assert PlanRequest.model_validate(data).entitlements[0].coverage[0].to == "24:00"


def test_haversine_needs_coordinates():
    data = base()
    data["appointments"][0]["location"] = {"index": 2}
    assert "appointments[0].location needs lat and lon with the haversine model" in error_of(data)


def matrix_request(size: int = 3) -> dict:
    data = base()
    data["technicians"][0]["start_location"] = {"index": 0}
    data["appointments"][0]["location"] = {"index": 1, "lat": 51.52, "lon": -0.10}
    data["travel"] = {"model": "matrix",
                      "durations_min": [[0.0] * size for _ in range(size)],
                      "distances_km": [[0.0] * size for _ in range(size)]}
    return data


def test_matrix_request_is_valid():
    assert PlanRequest.model_validate(matrix_request()).travel.model == "matrix"


@pytest.mark.parametrize(("change", "why"), [
    (lambda t: t.pop("distances_km"), "distances_km is required when model is 'matrix'"),
    (lambda t: t["durations_min"][1].pop(), "durations_min must be square: row 1 has 2 entries"),
    (lambda t: t["distances_km"][0].__setitem__(2, -1.0),
     "distances_km row 0 has a negative or non-finite entry"),
    (lambda t: t["durations_min"][2].__setitem__(0, float("inf")),
     "travel.durations_min.2.0\n  Input should be a finite number"),
    (lambda t: t.__setitem__("distances_km", [[0.0] * 2 for _ in range(2)]),
     "durations_min and distances_km must have the same size"),
])
def test_bad_matrix_is_refused(change, why):
    data = matrix_request()
    change(data["travel"])
    text = error_of(data)
    assert "travel" in text
    assert why in text


def test_matrix_index_must_exist_and_fit():
    data = matrix_request(size=2)
    data["appointments"][0]["location"]["index"] = 2
    assert "appointments[0].location.index 2 is outside the 2x2 matrix" in error_of(data)
    data = matrix_request()
    data["appointments"][0]["location"] = {"lat": 51.52, "lon": -0.10}
    assert "appointments[0].location.index is required with the matrix travel model" in \
        error_of(data)


def test_plan_round_trips_with_return_alias():
    plan = Plan.model_validate({
        "status": "feasible",
        "routes": [{"technician_id": "T1", "shift_index": 0,
                    "departure": "2026-11-23T08:00:00+00:00",
                    "return": "2026-11-23T09:00:00+00:00", "stops": [],
                    "travel_min": 0, "distance_km": 0}],
        "unassigned": [{"appointment_id": "A1", "reason": "capacity", "detail": "full"}],
    })
    data = plan.to_json_dict()
    assert "return" in data["routes"][0] and "return_" not in data["routes"][0]
    assert Plan.model_validate(data) == plan
    with pytest.raises(ValidationError, match=r"unassigned\.0\.reason"):
        Plan.model_validate({"status": "feasible", "unassigned": [
            {"appointment_id": "A1", "reason": "bad_luck", "detail": "x"}]})


@pytest.mark.parametrize("zone", ["Europe", "Nowhere/Special", "../etc/passwd", ""])
def test_an_unknown_time_zone_is_a_field_error(zone):
    # "Europe" makes ZoneInfo raise IsADirectoryError, which pydantic would not
    # report as a field error: the CLI would print a traceback instead of exit 2.
    data = base()
    data["entitlements"][0]["timezone"] = zone
    message = error_of(data)
    assert "entitlements.0.timezone" in message and "unknown time zone" in message
