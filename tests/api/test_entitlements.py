"""Customers and entitlements through the HTTP API, plus the helpers other domains use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from api.entitlements import service
from api.entitlements.models import Customer, Entitlement
from api.events import Event

CUSTOMER = {"name": "Acme Facilities", "timezone": "Europe/London", "lat": 51.5, "lon": -0.12}
TARGETS = {"1": {"response_min": 30, "onsite_min": 240, "resolution_min": 480},
           "3": {"response_min": 240, "resolution_min": 2400}}


def _customer(client, admin, **extra):
    r = client.post("/api/v1/customers", json={**CUSTOMER, **extra}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def _entitlement(client, admin, customer_id, **extra):
    body = {"customer_id": customer_id, "name": "Gold", "tier": "gold",
            "products": ["chiller"], "valid_from": "2026-01-01T00:00:00+00:00",
            "valid_until": "2027-01-01T00:00:00+00:00", "timezone": "Europe/London",
            "coverage": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00",
                          "to": "18:00"}],
            "targets": TARGETS, "min_skill_level": 2, **extra}
    r = client.post("/api/v1/entitlements", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def _count(db, model):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_customer_crud_with_etag_version_and_events(client, admin_headers):
    created = _customer(client, admin_headers)
    url = f"/api/v1/customers/{created['id']}"
    read = client.get(url, headers=admin_headers)
    assert read.headers["etag"] == '"1"' and read.json()["timezone"] == "Europe/London"
    updated = client.patch(url, json={"version": 1, "phone": "+44 1"}, headers=admin_headers)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    same = client.patch(url, json={"version": 2, "phone": "+44 1"}, headers=admin_headers)
    assert same.json()["version"] == 2  # an unchanged body writes nothing
    events = client.get("/api/v1/events", params={"entity_type": "customer",
                                                  "entity_id": created["id"]},
                        headers=admin_headers).json()["items"]
    assert [e["action"] for e in events] == ["updated", "created"]
    assert events[0]["data"] == {"changes": {"phone": "+44 1"}}
    assert client.delete(url, headers=admin_headers).status_code == 204
    assert client.get(url, headers=admin_headers).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"timezone": "Mars/Olympus"}, "body.timezone"),
    ({"lat": 91}, "body.lat"),
    ({"lat": 51.0, "lon": None}, "body.lon"),
    ({"name": ""}, "body.name"),
    ({"name": "nul\x00byte"}, "body.name"),
    ({"email": "not-an-email"}, "body.email"),
    ({"surprise": 1}, "body.surprise"),
])
def test_bad_customer_is_422_naming_the_field_and_writes_nothing(client, admin_headers, db,
                                                                 body, field):
    r = client.post("/api/v1/customers", json={**CUSTOMER, **body}, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert field in {d["field"] for d in r.json()["error"]["details"]}
    assert _count(db, Customer) == 0 and _count(db, Event) <= 1  # only the admin's user event


def test_entitlement_roundtrip_keeps_coverage_and_targets(client, admin_headers):
    customer = _customer(client, admin_headers)
    created = _entitlement(client, admin_headers, customer["id"])
    assert created["coverage"] == [{"days": ["mon", "tue", "wed", "thu", "fri"],
                                    "from": "08:00", "to": "18:00"}]
    assert created["targets"]["1"] == {"response_min": 30.0, "onsite_min": 240.0,
                                       "resolution_min": 480.0}
    assert created["targets"]["3"]["onsite_min"] is None
    assert created["valid_from"].startswith("2026-01-01T00:00:00")
    assert created["usage_count"] == 0 and created["version"] == 1


@pytest.mark.parametrize(("extra", "field"), [
    ({"valid_until": "2025-01-01T00:00:00+00:00"}, "body.valid_until"),
    ({"valid_from": "2026-01-01T00:00:00"}, "body.valid_from"),
    ({"timezone": "Nowhere/Land"}, "body.timezone"),
    ({"coverage": [{"days": ["mon"], "from": "25:00", "to": "18:00"}]}, "body.coverage.0.from"),
    ({"coverage": [{"days": ["funday"], "from": "08:00", "to": "18:00"}]},
     "body.coverage.0.days.0"),
    ({"coverage": [{"days": [], "from": "08:00", "to": "18:00"}]}, "body.coverage.0.days"),
    ({"coverage": []}, "body.coverage"),
    ({"targets": {"6": {"response_min": 10}}}, "body.targets.6.[key]"),
    ({"targets": {"1": {"response_min": -5}}}, "body.targets.1.response_min"),
    ({"targets": {"1": {"response_min": 500, "resolution_min": 60}}}, "body.targets.1"),
    ({"targets": {"1": {"respond_min": 5}}}, "body.targets.1.respond_min"),
    ({"min_skill_level": 6}, "body.min_skill_level"),
    ({"products": ["a", "a"]}, "body.products"),
    ({"customer_id": 999999}, "body.customer_id"),
    ({"usage_cap": -1}, "body.usage_cap"),
])
def test_bad_entitlement_is_422_naming_the_field_and_writes_nothing(
        client, admin_headers, db, extra, field):
    customer = _customer(client, admin_headers)
    events_before = _count(db, Event)
    body = {"customer_id": customer["id"], "name": "Gold", "products": [],
            "valid_from": "2026-01-01T00:00:00+00:00", **extra}
    r = client.post("/api/v1/entitlements", json=body, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert field in {d["field"] for d in r.json()["error"]["details"]}, r.json()
    assert _count(db, Entitlement) == 0 and _count(db, Event) == events_before


def test_entitlement_update_checks_merged_validity_and_version(client, admin_headers, db):
    customer = _customer(client, admin_headers)
    ent = _entitlement(client, admin_headers, customer["id"])
    url = f"/api/v1/entitlements/{ent['id']}"
    r = client.patch(url, json={"version": 1, "valid_from": "2027-06-01T00:00:00+00:00"},
                     headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "body.valid_from"
    r = client.patch(url, json={"version": 1, "name": None}, headers=admin_headers)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "body.name"
    ok = client.patch(url, json={"version": 1, "coverage": None, "tier": "platinum"},
                      headers=admin_headers)
    assert ok.status_code == 200 and ok.json()["coverage"] is None  # now 24x7
    stale = client.patch(url, json={"version": 1, "tier": "bronze"}, headers=admin_headers)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert client.get(url, headers=admin_headers).json()["tier"] == "platinum"


def test_list_filters_and_paging(client, admin_headers):
    acme = _customer(client, admin_headers)
    other = _customer(client, admin_headers, name="Other Ltd")
    _entitlement(client, admin_headers, acme["id"], products=["chiller"])
    _entitlement(client, admin_headers, acme["id"], products=[], tier="bronze",
                 valid_from="2028-01-01T00:00:00+00:00", valid_until=None)
    _entitlement(client, admin_headers, other["id"], products=["boiler"])

    def ids(**params):
        r = client.get("/api/v1/entitlements", params=params, headers=admin_headers)
        assert r.status_code == 200, r.text
        return r.json()

    assert ids(customer_id=acme["id"])["total"] == 2
    assert ids(product="chiller")["total"] == 2  # named + catch-all
    assert ids(product="boiler")["total"] == 2
    assert ids(tier="bronze")["total"] == 1
    assert ids(valid_at="2026-06-01T00:00:00Z")["total"] == 2
    assert ids(valid_at="2030-06-01T00:00:00Z")["total"] == 1
    page = ids(limit=1, offset=2)
    assert page["total"] == 3 and len(page["items"]) == 1
    customers = client.get("/api/v1/customers", params={"q": "OTHER"}, headers=admin_headers)
    assert [c["name"] for c in customers.json()["items"]] == ["Other Ltd"]
    bad = client.get("/api/v1/entitlements", params={"valid_at": "2026-06-01T00:00:00"},
                     headers=admin_headers)
    assert bad.status_code == 422


def test_customer_with_entitlements_cannot_be_deleted(client, admin_headers):
    customer = _customer(client, admin_headers)
    _entitlement(client, admin_headers, customer["id"])
    r = client.delete(f"/api/v1/customers/{customer['id']}", headers=admin_headers)
    assert r.status_code == 409


def test_find_valid_entitlement_prefers_named_product_and_respects_caps(client, admin_headers,
                                                                       db):
    customer = _customer(client, admin_headers)
    catch_all = _entitlement(client, admin_headers, customer["id"], products=[],
                             valid_until=None)
    named = _entitlement(client, admin_headers, customer["id"], products=["chiller"],
                         usage_cap=1)
    _entitlement(client, admin_headers, customer["id"], products=["chiller"], active=False)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    found = service.find_valid_entitlement(db=db, customer_id=customer["id"],
                                           product="chiller", at=at)
    assert found.id == named["id"]
    assert service.find_valid_entitlement(db=db, customer_id=customer["id"], product="pump",
                                          at=at).id == catch_all["id"]
    service.record_usage(db=db, entitlement_id=named["id"], actor="tests")
    db.commit()
    again = service.find_valid_entitlement(db=db, customer_id=customer["id"],
                                           product="chiller", at=at)
    assert again.id == catch_all["id"]  # the named contract's one visit is used up
    with pytest.raises(Exception, match="used all 1"):
        service.record_usage(db=db, entitlement_id=named["id"], actor="tests")
    before = datetime(2025, 6, 1, tzinfo=UTC)
    assert service.find_valid_entitlement(db=db, customer_id=customer["id"],
                                          product="chiller", at=before) is None


def test_calendar_targets_and_exchange_view(client, admin_headers, db):
    customer = _customer(client, admin_headers)
    ent_id = _entitlement(client, admin_headers, customer["id"])["id"]
    ent = db.get(Entitlement, ent_id)
    calendar = service.calendar_for(ent)
    # Monday 2 March 2026, London is on GMT: 08:00-18:00 local = UTC.
    assert calendar.is_open(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    assert not calendar.is_open(datetime(2026, 3, 7, 10, 0, tzinfo=UTC))  # Saturday
    # In summer (BST) 08:00 local is 07:00 UTC.
    assert calendar.is_open(datetime(2026, 7, 6, 7, 30, tzinfo=UTC))
    assert service.targets_for(ent, 1).onsite_min == 240
    assert service.targets_for(ent, 2) is None
    view = service.to_exchange(ent)
    assert view.id == str(ent_id) and view.timezone == "Europe/London"
    assert view.min_skill_level == 2 and view.coverage[0].from_ == "08:00"
    assert view.valid_until == datetime(2027, 1, 1, tzinfo=UTC)


def test_agent_reads_but_cannot_write_contracts(client, admin_headers, headers_for):
    customer = _customer(client, admin_headers)
    agent = headers_for("agent")
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=agent).status_code == 200
    r = client.patch(f"/api/v1/customers/{customer['id']}", json={"version": 1, "name": "x"},
                     headers=agent)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
