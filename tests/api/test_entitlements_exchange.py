"""What the optimiser sees of a contract: validity, suspension and their reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.entitlements.models import Entitlement
from api.entitlements.service import to_exchange

FROM = datetime(2026, 11, 1, tzinfo=UTC)


def contract(**fields) -> Entitlement:
    values = {"id": 7, "customer_id": 1, "name": "Gold", "valid_from": FROM, "onsite": True,
              "timezone": "Europe/London", "active": True, "usage_count": 0}
    return Entitlement(**{**values, **fields})


def test_an_active_contract_carries_its_validity_period():
    exported = to_exchange(contract(valid_until=datetime(2026, 12, 31, tzinfo=UTC)))
    assert exported.id == "7" and exported.suspended is None
    assert exported.valid_from == FROM
    assert exported.valid_until == datetime(2026, 12, 31, tzinfo=UTC)


@pytest.mark.parametrize(("fields", "why"), [
    ({"active": False}, "the contract is inactive"),
    ({"usage_cap": 3, "usage_count": 3}, "its usage cap of 3 visit(s) is used up"),
])
def test_an_unusable_contract_is_exported_suspended_with_the_reason(fields, why):
    assert to_exchange(contract(**fields)).suspended == why


def test_a_contract_with_uses_left_is_not_suspended():
    assert to_exchange(contract(usage_cap=3, usage_count=2)).suspended is None
