"""Technicians and shifts through the HTTP API, plus the optimiser view."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from api.events import Event
from api.technicians import service
from api.technicians.models import Shift, Technician

TECH = {"name": "Ana Ruiz", "email": "ana@example.com", "skills": {"hvac": 3, "electrical": 1},
        "home_lat": 51.5, "home_lon": -0.12, "territories": ["north"], "max_overtime_min": 30}
SHIFT = {"start": "2026-11-23T08:00:00+00:00", "end": "2026-11-23T17:00:00+00:00",
         "breaks": [{"earliest_start": "2026-11-23T12:00:00+00:00",
                     "latest_end": "2026-11-23T14:00:00+00:00", "duration_min": 30}]}


def _tech(client, admin, **extra):
    r = client.post("/api/v1/technicians", json={**TECH, **extra}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def _shift(client, headers, tech_id, **extra):
    r = client.post(f"/api/v1/technicians/{tech_id}/shifts", json={**SHIFT, **extra},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _count(db, model):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_technician_crud_versioning_and_events(client, admin_headers):
    tech = _tech(client, admin_headers)
    assert tech["support_tier"] == "field" and tech["skills"] == {"hvac": 3, "electrical": 1}
    url = f"/api/v1/technicians/{tech['id']}"
    r = client.patch(url, json={"version": 1, "skills": {"hvac": 4}}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["skills"] == {"hvac": 4}
    assert r.headers["etag"] == '"2"'
    stale = client.patch(url, json={"version": 1, "name": "B"}, headers=admin_headers)
    assert stale.status_code == 409 and stale.json()["error"]["meta"]["current_version"] == 2
    events = client.get("/api/v1/events", params={"entity_type": "technician",
                                                  "entity_id": tech["id"]},
                        headers=admin_headers).json()["items"]
    assert [e["action"] for e in events] == ["updated", "created"]
    assert events[0]["data"] == {"changes": {"skills": {"hvac": 4}}}
    assert client.delete(url, headers=admin_headers).status_code == 204
    assert client.get(url, headers=admin_headers).status_code == 404


@pytest.mark.parametrize(("extra", "field"), [
    ({"skills": {"hvac": 6}}, "body.skills.hvac"),
    ({"skills": {"hvac": 0}}, "body.skills.hvac"),
    ({"skills": {'bad"name': 2}}, 'body.skills.bad"name.[key]'),
    ({"home_lat": 100}, "body.home_lat"),
    ({"support_tier": "L9"}, "body.support_tier"),
    ({"territories": ["north", "north"]}, "body.territories"),
    ({"max_overtime_min": -1}, "body.max_overtime_min"),
    ({"capacity": -1}, "body.capacity"),
    ({"name": None}, "body.name"),
])
def test_bad_technician_is_422_naming_the_field(client, admin_headers, db, extra, field):
    r = client.post("/api/v1/technicians", json={**TECH, **extra}, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert field in {d["field"] for d in r.json()["error"]["details"]}, r.json()
    assert _count(db, Technician) == 0


def test_duplicate_email_is_409(client, admin_headers):
    _tech(client, admin_headers)
    r = client.post("/api/v1/technicians", json=TECH, headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["details"][0]["field"] == "body.email"


def test_technician_filters(client, admin_headers):
    _tech(client, admin_headers, email=None)
    _tech(client, admin_headers, name="Bo", email=None, skills={"hvac": 1, "fibre": 4},
          territories=[], support_tier="L2")
    _tech(client, admin_headers, name="Cy", email=None, skills={}, territories=["south"],
          active=False)

    def names(**params):
        r = client.get("/api/v1/technicians", params=params, headers=admin_headers)
        assert r.status_code == 200, r.text
        return [t["name"] for t in r.json()["items"]]

    assert names(skill="hvac", min_level=2) == ["Ana Ruiz"]
    assert names(skill="hvac") == ["Ana Ruiz", "Bo"]
    assert names(territory="north") == ["Ana Ruiz", "Bo"]  # Bo works anywhere
    assert names(territory="south") == ["Bo", "Cy"]
    assert names(active=False) == ["Cy"]
    assert names(support_tier="L2") == ["Bo"]
    assert names(q="an") == ["Ana Ruiz"]


def test_shift_with_breaks_roundtrip_and_day_filter(client, admin_headers, headers_for):
    tech = _tech(client, admin_headers)
    dispatcher = headers_for("dispatcher")
    shift = _shift(client, dispatcher, tech["id"])
    assert shift["status"] == "planned" and shift["breaks"][0]["duration_min"] == 30
    _shift(client, dispatcher, tech["id"], start="2026-11-24T08:00:00+00:00",
           end="2026-11-24T17:00:00+00:00", breaks=[])

    def count(url, **params):
        r = client.get(url, params=params, headers=dispatcher)
        assert r.status_code == 200, r.text
        return r.json()["total"]

    assert count("/api/v1/shifts", date="2026-11-23") == 1
    assert count(f"/api/v1/technicians/{tech['id']}/shifts") == 2
    # In Auckland (UTC+13) the local 24 Nov starts at 11:00 UTC on the 23rd.
    assert count("/api/v1/shifts", date="2026-11-24", tz="Pacific/Auckland") == 2
    assert count("/api/v1/shifts", **{"from": "2026-11-23T16:00:00Z",
                                      "to": "2026-11-24T07:00:00Z"}) == 1
    r = client.get("/api/v1/shifts", params={"date": "2026-11-23", "from": "2026-11-23T00:00:00Z"},
                   headers=dispatcher)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "query.date"


@pytest.mark.parametrize(("extra", "field"), [
    ({"end": "2026-11-23T07:00:00+00:00"}, "body.breaks"),
    ({"end": "2026-11-25T09:00:00+00:00", "breaks": []}, "body.breaks"),
    ({"breaks": [{"earliest_start": "2026-11-23T06:00:00+00:00",
                  "latest_end": "2026-11-23T07:00:00+00:00", "duration_min": 30}]},
     "body.breaks"),
    ({"breaks": [{"earliest_start": "2026-11-23T12:00:00+00:00",
                  "latest_end": "2026-11-23T12:10:00+00:00", "duration_min": 30}]},
     "body.breaks.0"),
    ({"start": "2026-11-23T08:00:00"}, "body.start"),
])
def test_bad_shift_is_422_and_writes_nothing(client, admin_headers, db, extra, field):
    tech = _tech(client, admin_headers)
    events_before = _count(db, Event)
    r = client.post(f"/api/v1/technicians/{tech['id']}/shifts", json={**SHIFT, **extra},
                    headers=admin_headers)
    assert r.status_code == 422, r.text
    assert field in {d["field"] for d in r.json()["error"]["details"]}, r.json()
    assert _count(db, Shift) == 0 and _count(db, Event) == events_before


def test_overlapping_planned_shifts_conflict(client, admin_headers):
    tech = _tech(client, admin_headers)
    first = _shift(client, admin_headers, tech["id"])
    r = client.post(f"/api/v1/technicians/{tech['id']}/shifts",
                    json={**SHIFT, "start": "2026-11-23T16:00:00+00:00",
                          "end": "2026-11-23T20:00:00+00:00", "breaks": []},
                    headers=admin_headers)
    assert r.status_code == 409 and r.json()["error"]["meta"] == {"shift_id": first["id"]}


def test_shift_update_checks_the_merged_shift(client, admin_headers):
    tech = _tech(client, admin_headers)
    shift = _shift(client, admin_headers, tech["id"])
    url = f"/api/v1/shifts/{shift['id']}"
    r = client.patch(url, json={"version": 1, "end": "2026-11-23T13:00:00+00:00"},
                     headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.breaks.0"
    r = client.patch(url, json={"version": 1, "end": "2026-11-23T18:00:00+00:00"},
                     headers=admin_headers)
    assert r.status_code == 200 and r.json()["end"].startswith("2026-11-23T18:00")
    assert r.json()["version"] == 2


def test_off_sick_and_back_with_transition_rules(client, admin_headers, headers_for):
    tech = _tech(client, admin_headers)
    dispatcher = headers_for("dispatcher")
    shift = _shift(client, dispatcher, tech["id"])
    url = f"/api/v1/shifts/{shift['id']}/status"
    sick = client.post(url, json={"version": 1, "status": "off_sick", "note": "flu"},
                       headers=dispatcher)
    assert sick.status_code == 200 and sick.json()["status"] == "off_sick"
    again = client.post(url, json={"version": 2, "status": "off_sick"}, headers=dispatcher)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"
    assert again.json()["error"]["meta"]["allowed"] == ["cancelled", "planned"]
    # While she is off sick another shift may take the slot; then she cannot come back.
    _shift(client, dispatcher, tech["id"], breaks=[])
    back = client.post(url, json={"version": 2, "status": "planned"}, headers=dispatcher)
    assert back.status_code == 409 and back.json()["error"]["code"] == "conflict"
    events = client.get("/api/v1/events", params={"entity_type": "shift",
                                                  "entity_id": shift["id"]},
                        headers=dispatcher).json()["items"]
    assert events[0]["action"] == "status_off_sick"
    assert events[0]["data"]["from"] == "planned" and events[0]["actor"].startswith("user:")


def test_technician_sees_only_their_own_records(client, admin_headers, headers_for):
    mine = _tech(client, admin_headers, email=None)
    theirs = _tech(client, admin_headers, email=None, name="Other")
    my_shift = _shift(client, admin_headers, mine["id"])
    their_shift = _shift(client, admin_headers, theirs["id"])
    me = headers_for("technician", technician_id=mine["id"])
    assert client.get(f"/api/v1/technicians/{mine['id']}", headers=me).status_code == 200
    assert client.get(f"/api/v1/technicians/{theirs['id']}", headers=me).status_code == 404
    assert client.get(f"/api/v1/shifts/{my_shift['id']}", headers=me).status_code == 200
    assert client.get(f"/api/v1/shifts/{their_shift['id']}", headers=me).status_code == 404
    assert client.get(f"/api/v1/technicians/{theirs['id']}/shifts",
                      headers=me).status_code == 404
    assert client.get("/api/v1/technicians", headers=me).status_code == 403
    assert client.patch(f"/api/v1/technicians/{mine['id']}", json={"version": 1, "name": "x"},
                        headers=me).status_code == 403


def test_to_exchange_takes_planned_shifts_only(client, admin_headers, db):
    tech = _tech(client, admin_headers)
    first = _shift(client, admin_headers, tech["id"])
    _shift(client, admin_headers, tech["id"], start="2026-11-24T08:00:00+00:00",
           end="2026-11-24T17:00:00+00:00", breaks=[])
    client.post(f"/api/v1/shifts/{first['id']}/status", json={"version": 1,
                                                              "status": "cancelled"},
                headers=admin_headers)
    row = db.get(Technician, tech["id"])
    view = service.to_exchange(row, list(row.shifts))
    assert view.id == str(tech["id"]) and view.skills == {"hvac": 3, "electrical": 1}
    assert [s.start for s in view.shifts] == [datetime(2026, 11, 24, 8, tzinfo=UTC)]
    assert view.start_location.lat == 51.5 and view.territories == ["north"]
    assert view.max_overtime_min == 30


def test_technician_referenced_by_a_user_can_be_deleted_and_unlinks(client, admin_headers,
                                                                    headers_for):
    tech = _tech(client, admin_headers)
    linked = headers_for("technician", technician_id=tech["id"])
    assert client.delete(f"/api/v1/technicians/{tech['id']}",
                         headers=admin_headers).status_code == 204
    user = client.get(f"/api/v1/auth/users/{linked.user_id}", headers=admin_headers).json()
    assert user["technician_id"] is None
