"""Turning an address into coordinates through a configurable geopy provider.

The ``geocoder`` setting names the provider: ``offline`` is the local
gazetteer (tests, demo), anything else is a geopy service name such as
``nominatim``, built with the configured user agent and wrapped in geopy's
``RateLimiter`` (Nominatim's usage policy allows one request per second).
Failures and empty answers become ``GeocodingFailed`` carrying a message a
person can act on; callers turn it into a 422 naming ``address``. There is no
fallback to 0,0: a visit placed in the Gulf of Guinea is worse than an error.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from geopy.exc import GeocoderNotFound, GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service
from geopy.location import Location

from api.appointments.gazetteer import GazetteerGeocoder

OFFLINE = "offline"
# One request per second: the public Nominatim usage policy, and a safe pace for others.
MIN_DELAY_S = 1.0
TIMEOUT_S = 10.0

GeocodeFn = Callable[[str], Location | None]


class GeocodingFailed(Exception):
    """The address could not be turned into coordinates (no result or provider error)."""


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float
    display: str | None = None


def cache_key(address: str) -> str:
    """The form of an address the geocode cache is keyed by (case and spacing folded)."""
    return " ".join(address.casefold().split())


@functools.lru_cache(maxsize=8)
def build_geocoder(provider: str, user_agent: str) -> GeocodeFn:
    """One geocode callable per provider and user agent, shared by the process.

    Shared so the rate limiter paces every request of the process, not each one
    separately. Raises ``ValueError`` for a provider geopy does not know.
    """
    name = provider.strip().lower()
    if name == OFFLINE:
        return GazetteerGeocoder().geocode
    try:
        geocoder_class = get_geocoder_for_service(name)
    except GeocoderNotFound as exc:
        raise ValueError(f"unknown geocoder {provider!r}: use 'offline' or a geopy "
                         f"service name such as 'nominatim'") from exc
    geocoder = geocoder_class(user_agent=user_agent, timeout=TIMEOUT_S)
    return RateLimiter(geocoder.geocode, min_delay_seconds=MIN_DELAY_S, max_retries=2,
                       swallow_exceptions=False)


def geocode(geocode_fn: GeocodeFn, address: str) -> GeoPoint:
    """Coordinates of ``address`` or ``GeocodingFailed`` saying why not."""
    text = address.strip()
    if not text:
        raise GeocodingFailed("address is empty")
    try:
        found = geocode_fn(text)
    except GeopyError as exc:
        raise GeocodingFailed(f"the geocoding service failed for {text!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
    if isinstance(found, list):
        found = found[0] if found else None
    if found is None:
        raise GeocodingFailed(f"no location found for address {text!r}")
    lat, lon = float(found.latitude), float(found.longitude)
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
            and -180 <= lon <= 180):
        raise GeocodingFailed(f"the geocoding service returned invalid coordinates "
                              f"({lat}, {lon}) for {text!r}")
    return GeoPoint(lat=lat, lon=lon, display=found.address)
