"""Amounts from the event: a table's band, then `per`, `min` and `max`, as for every other form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service.engine.schema import MoneySpec
from service.recovery.amounts import Basis

BANDS = {"by": "facts.arrival_delay_minutes",
         "bands": [{"from": 60, "percent_of_order": 25}, {"from": 120, "percent_of_order": 50}]}


@pytest.mark.parametrize("spec, facts, expected", [
    ({"table": BANDS}, {"arrival_delay_minutes": 59}, ("0", None)),
    ({"table": BANDS}, {"arrival_delay_minutes": 60}, ("20.00", None)),
    ({"table": BANDS}, {"arrival_delay_minutes": 120}, ("40.00", None)),
    ({"table": BANDS, "per": "passengers"}, {"arrival_delay_minutes": 120, "passengers": 3}, ("120.00", None)),
    ({"table": BANDS, "max": {"EUR": "30.00"}}, {"arrival_delay_minutes": 120}, ("30.00", None)),
    ({"table": BANDS, "min": {"EUR": "5.00"}}, {"arrival_delay_minutes": 10}, ("5.00", None)),
    ({"table": BANDS}, {}, (None, "facts.arrival_delay_minutes")),
    ({"table": BANDS, "per": "passengers"}, {"arrival_delay_minutes": 60}, (None, "facts.passengers")),
    ({"amount": {"EUR": "250.00"}, "per": "passengers"}, {"passengers": 2}, ("500.00", None)),
])
def test_a_tables_band_then_per_min_and_max(spec: dict[str, Any], facts: dict[str, Any],
                                              expected: tuple[str | None, str | None]) -> None:
    flat: dict[str, Any] = {"order.amount.amount": Decimal("80.00"), **{f"facts.{k}": v for k, v in facts.items()}}
    amount, missing = Basis.of(flat, "EUR").amount(MoneySpec.model_validate(spec))
    assert (None if amount is None else Decimal(amount), missing) == \
        (None if expected[0] is None else Decimal(expected[0]), expected[1])
