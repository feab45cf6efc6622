"""Geocoding: the offline gazetteer provider, the provider factory, failures as errors.

The HTTP-level tests (422 naming ``address``, the cache table) are at the end.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geopy.exc import GeocoderServiceError, GeocoderTimedOut
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from sqlalchemy import select

from api.appointments.gazetteer import GazetteerGeocoder, find_postcode, normalise_address
from api.appointments.geocoding import GeocodingFailed, build_geocoder, cache_key, geocode
from api.appointments.models import GeocodeCache
from tests.api.appointment_helpers import BODY, count_appointments


def test_gazetteer_is_a_geopy_geocoder_with_the_geopy_contract() -> None:
    gazetteer = GazetteerGeocoder()
    assert isinstance(gazetteer, Geocoder)
    found = gazetteer.geocode("10 Downing Street, London SW1A 2AA")
    assert isinstance(found, Location)
    assert (found.latitude, found.longitude) == pytest.approx((51.5034, -0.1277))
    as_list = gazetteer.geocode("10 Downing Street, London SW1A 2AA", exactly_one=False)
    assert isinstance(as_list, list) and as_list[0].point == found.point
    assert gazetteer.geocode("Nowhere Lane, Atlantis") is None


def test_gazetteer_matches_address_then_postcode_then_district() -> None:
    gazetteer = GazetteerGeocoder()
    exact = gazetteer.geocode("  10 downing STREET london, sw1a 2aa ")
    assert exact is not None and exact.raw["match"] == "address"
    by_postcode = gazetteer.geocode("Flat 2, Somewhere, SW1A2AA")
    assert by_postcode is not None and by_postcode.raw["match"] == "postcode"
    assert by_postcode.point == exact.point
    district = gazetteer.geocode("14 Station Road, Hackney, London E8 3XY")
    assert district is not None and district.raw["match"] == "district"
    assert (district.latitude, district.longitude) == pytest.approx((51.545, -0.0553))


def test_gazetteer_accepts_extra_entries_and_is_deterministic() -> None:
    gazetteer = GazetteerGeocoder(entries=[("1 Test Road, Testville TT1 1TT", 10.0, 20.0)],
                                  districts=[])
    first = gazetteer.geocode("1 test road testville tt1 1tt")
    assert first is not None and (first.latitude, first.longitude) == (10.0, 20.0)
    assert gazetteer.geocode("14 Station Road, Hackney, London E8 3XY") is None
    assert GazetteerGeocoder().geocode("Kings Road SW3").point == \
        GazetteerGeocoder().geocode("Kings Road SW3").point


def test_address_helpers() -> None:
    assert normalise_address("St. Paul's  Cathedral,London") == "st pauls cathedral london"
    assert find_postcode("x, London ec4m 8ad") == "EC4M8AD"
    assert find_postcode("no postcode here") is None
    assert cache_key("  10  Downing St ") == "10 downing st"


def test_build_geocoder_offline_and_real_providers() -> None:
    offline = build_geocoder("offline", "fieldplan-test")
    assert offline("Tower of London, London EC3N 4AB") is not None
    nominatim = build_geocoder("nominatim", "fieldplan-test")
    # Real geopy provider, paced by geopy's RateLimiter (no request is made here).
    assert isinstance(nominatim, RateLimiter)
    assert isinstance(nominatim.func.__self__, Nominatim)
    assert nominatim.func.__self__.headers["User-Agent"] == "fieldplan-test"
    assert nominatim.min_delay_seconds >= 1.0
    with pytest.raises(ValueError, match="unknown geocoder 'mapquestt'"):
        build_geocoder("mapquestt", "x")


def test_geocode_returns_a_point() -> None:
    point = geocode(GazetteerGeocoder().geocode, "Tower of London, London EC3N 4AB")
    assert (point.lat, point.lon) == pytest.approx((51.5081, -0.0759))
    assert point.display == "Tower of London, London EC3N 4AB"


@pytest.mark.parametrize(("answer", "message"), [
    (None, "no location found"),
    ([], "no location found"),
    (GeocoderTimedOut("took too long"), "GeocoderTimedOut"),
    (GeocoderServiceError("HTTP 500"), "geocoding service failed"),
    (Location("bad", (0.0, 0.0), {}), None),
])
def test_geocode_failures_are_errors_never_zero_zero(answer: object, message: str | None
                                                     ) -> None:
    def provider(_query: str) -> Location | None:
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    if message is None:
        # A real (0, 0) answer is a valid point; only the absence of one is an error.
        assert geocode(provider, "Null Island").lat == 0.0
        return
    with pytest.raises(GeocodingFailed, match=message):
        geocode(provider, "1 Unknown Street")


def test_geocode_refuses_empty_address() -> None:
    with pytest.raises(GeocodingFailed, match="empty"):
        geocode(GazetteerGeocoder().geocode, "   ")


# ----------------------------------------------------------------- through the API

URL = "/api/v1/appointments"
ADDRESS_BODY = {key: value for key, value in BODY.items() if key != "location"}


def test_address_is_geocoded_and_cached(client: TestClient, app: FastAPI,
                                        api_key_headers: dict[str, str]) -> None:
    address = "British Museum, Great Russell Street, London WC1B 3DG"
    response = client.post(URL, json={**ADDRESS_BODY, "address": address},
                           headers=api_key_headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"] == pytest.approx({"lat": 51.5194, "lon": -0.127})
    assert body["address"] == address and body["geocoded_address"] == address
    with app.state.sessionmaker() as session:
        cached = session.scalars(select(GeocodeCache)).all()
    assert [(c.provider, c.query) for c in cached] == [("offline", cache_key(address))]


def test_the_cache_answers_before_the_provider(client: TestClient, app: FastAPI,
                                               api_key_headers: dict[str, str]) -> None:
    # An address the gazetteer does not know, already in the cache: the cache answers.
    with app.state.sessionmaker.begin() as session:
        session.add(GeocodeCache(provider="offline", query="7 cached lane, springfield",
                                 lat=12.5, lon=7.25, display="7 Cached Lane"))
    response = client.post(URL, json={**ADDRESS_BODY, "address": "7 Cached Lane,  Springfield"},
                           headers=api_key_headers)
    assert response.status_code == 201, response.text
    assert response.json()["location"] == {"lat": 12.5, "lon": 7.25}
    # Same address twice: still one cache row.
    for _ in range(2):
        assert client.post(URL, json={**ADDRESS_BODY, "address": "Tower of London, EC3N 4AB"},
                           headers=api_key_headers).status_code == 201
    with app.state.sessionmaker() as session:
        assert len(session.scalars(select(GeocodeCache)).all()) == 2


def test_unknown_address_is_422_naming_address_and_writes_nothing(
        client: TestClient, app: FastAPI, api_key_headers: dict[str, str]) -> None:
    response = client.post(URL, json={**ADDRESS_BODY, "address": "1 Nowhere Road, Atlantis"},
                           headers=api_key_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"] == [{"field": "body.address",
                                 "message": "no location found for address "
                                            "'1 Nowhere Road, Atlantis'"}]
    assert count_appointments(app) == 0


def test_provider_failure_is_422_naming_address(client: TestClient, app: FastAPI,
                                                api_key_headers: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from api.appointments import routes

    def down(_query: str) -> None:
        raise GeocoderTimedOut("Service timed out")

    monkeypatch.setattr(routes, "build_geocoder", lambda _provider, _agent: down)
    response = client.post(URL, json={**ADDRESS_BODY, "address": "10 Downing Street"},
                           headers=api_key_headers)
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "body.address" and "GeocoderTimedOut" in detail["message"]
    assert count_appointments(app) == 0


def test_patching_the_address_moves_the_visit(client: TestClient, headers_for: Any,
                                              api_key_headers: dict[str, str]) -> None:
    created = client.post(URL, json=BODY, headers=api_key_headers).json()
    url = f"{URL}/{created['id']}"
    dispatcher = headers_for("dispatcher")
    moved = client.patch(url, headers=dispatcher,
                         json={"version": 1, "address": "Wembley Stadium, London HA9 0WS"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["location"] == pytest.approx({"lat": 51.556, "lon": -0.2796})
    assert moved.json()["version"] == 2
    lost = client.patch(url, headers=dispatcher, json={"version": 2, "address": "Atlantis"})
    assert lost.status_code == 422
    assert lost.json()["error"]["details"][0]["field"] == "body.address"
