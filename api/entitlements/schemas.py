"""Bodies of the customer and entitlement endpoints, with their business rules.

Coverage periods reuse the exchange format's ``CoveragePeriod`` (one
definition of a weekly period); targets are keyed by priority "1".."5".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.validation import (
    DbId,
    Email,
    Flag,
    Instant,
    Latitude,
    Level,
    Longitude,
    TimeZoneName,
    Version,
    text,
)
from optimiser.schema import CoveragePeriod

PriorityKey = Literal["1", "2", "3", "4", "5"]
Minutes = Annotated[float, Field(strict=True, gt=0, le=525_600, allow_inf_nan=False)]
Product = text(100)
Tier = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                            examples=["gold"])]

COVERAGE_EXAMPLE = [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"}]
TARGETS_EXAMPLE = {
    "1": {"response_min": 30, "onsite_min": 240, "resolution_min": 480},
    "2": {"response_min": 60, "onsite_min": 480, "resolution_min": 960},
    "3": {"response_min": 240, "onsite_min": None, "resolution_min": 2400},
}


class SlaTargets(BaseModel):
    """Business-minute targets for one priority (``None`` = no target for that clock)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"response_min": 30, "onsite_min": 240, "resolution_min": 480}]})

    response_min: Minutes | None = None
    onsite_min: Minutes | None = None
    resolution_min: Minutes | None = None

    @model_validator(mode="after")
    def _response_before_resolution(self) -> SlaTargets:
        if self.response_min is not None and self.resolution_min is not None \
                and self.response_min > self.resolution_min:
            raise ValueError("response_min must not exceed resolution_min")
        return self


Targets = dict[PriorityKey, SlaTargets]
Coverage = Annotated[list[CoveragePeriod], Field(min_length=1, max_length=50)]


def _unique_products(products: list[str]) -> list[str]:
    seen: set[str] = set()
    for product in products:
        if product in seen:
            raise ValueError(f"product {product!r} is listed twice")
        seen.add(product)
    return products


# ------------------------------------------------------------------- customers


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "Acme Facilities Ltd", "contact": "Jo Bloggs", "email": "ops@acme.example",
        "phone": "+44 20 7946 0000", "address": "1 Long Acre, London WC2E 9LH",
        "lat": 51.5123, "lon": -0.1246, "timezone": "Europe/London"}]})

    name: text(200)
    contact: text(200) | None = None
    email: Email | None = None
    phone: text(50) | None = None
    address: text(500) | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    timezone: TimeZoneName = "UTC"
    active: Flag = True


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": 1, "phone": "+44 20 7946 0001"}]})

    version: Version
    name: text(200) | None = None
    contact: text(200) | None = None
    email: Email | None = None
    phone: text(50) | None = None
    address: text(500) | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    timezone: TimeZoneName | None = None
    active: Flag | None = None


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 1, "name": "Acme Facilities Ltd", "contact": "Jo Bloggs",
        "email": "ops@acme.example", "phone": "+44 20 7946 0000",
        "address": "1 Long Acre, London WC2E 9LH", "lat": 51.5123, "lon": -0.1246,
        "timezone": "Europe/London", "active": True, "version": 1,
        "created_at": "2026-11-22T09:00:00Z", "updated_at": "2026-11-22T09:00:00Z"}]})

    id: int
    name: str
    contact: str | None
    email: str | None
    phone: str | None
    address: str | None
    lat: float | None
    lon: float | None
    timezone: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- entitlements

_ENTITLEMENT_EXAMPLE = {
    "customer_id": 1, "name": "Gold 24x7 HVAC", "tier": "gold",
    "products": ["hvac-chiller-x200", "hvac-ahu"],
    "valid_from": "2026-01-01T00:00:00+00:00", "valid_until": "2027-01-01T00:00:00+00:00",
    "onsite": True, "coverage": COVERAGE_EXAMPLE, "timezone": "Europe/London",
    "targets": TARGETS_EXAMPLE, "min_skill_level": 2, "usage_cap": 12,
}


class EntitlementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [_ENTITLEMENT_EXAMPLE]})

    customer_id: DbId
    name: text(200)
    tier: Tier = "standard"
    products: Annotated[list[Product], Field(max_length=200,
                                             description="Covered products/assets; "
                                                         "empty = every product")] = []
    valid_from: Instant
    valid_until: Instant | None = Field(
        default=None, description="Exclusive end; null = open-ended")
    onsite: Flag = True
    coverage: Coverage | None = Field(default=None, description="Weekly periods in `timezone`; "
                                                                "null = 24x7")
    timezone: TimeZoneName = "UTC"
    targets: Targets = Field(default_factory=dict, description="SLA targets by priority 1..5")
    min_skill_level: Level | None = None
    usage_cap: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] | None = None
    active: Flag = True

    _products_unique = field_validator("products")(_unique_products)

    @field_validator("valid_until")
    @classmethod
    def _after_valid_from(cls, until: datetime | None, info: ValidationInfo
                          ) -> datetime | None:
        start = info.data.get("valid_from")
        if until is not None and start is not None and until <= start:
            raise ValueError("valid_until must be after valid_from")
        return until


class EntitlementUpdate(BaseModel):
    """Partial update; send ``null`` to clear ``valid_until``, ``coverage`` (= 24x7), caps."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": 3, "valid_until": "2028-01-01T00:00:00+00:00", "tier": "platinum"}]})

    version: Version
    name: text(200) | None = None
    tier: Tier | None = None
    products: Annotated[list[Product], Field(max_length=200)] | None = None
    valid_from: Instant | None = None
    valid_until: Instant | None = None
    onsite: Flag | None = None
    coverage: Coverage | None = None
    timezone: TimeZoneName | None = None
    targets: Targets | None = None
    min_skill_level: Level | None = None
    usage_cap: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] | None = None
    active: Flag | None = None

    @field_validator("products")
    @classmethod
    def _products_unique(cls, products: list[str] | None) -> list[str] | None:
        return None if products is None else _unique_products(products)


class EntitlementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": 7, **_ENTITLEMENT_EXAMPLE, "usage_count": 3, "active": True, "version": 2,
        "created_at": "2026-11-22T09:00:00Z", "updated_at": "2026-11-22T09:00:00Z"}]})

    id: int
    customer_id: int
    name: str
    tier: str
    products: list[str]
    valid_from: datetime
    valid_until: datetime | None
    onsite: bool
    coverage: list[CoveragePeriod] | None
    timezone: str
    targets: dict[str, SlaTargets]
    min_skill_level: int | None
    usage_cap: int | None
    usage_count: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
