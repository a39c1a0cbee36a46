"""A fee is shown in the currency of its source (issue 15: USD fees had been shown in đồng)."""

from __future__ import annotations

import pytest

from bot.procedures.answers import format_fee
from bot.procedures.importer import read_catalog
from bot.procedures.parsing import parse_record


@pytest.mark.parametrize(
    ("fee", "shown"),
    [({"kind": "amount", "parsed": True, "amount": 10, "currency": "USD", "per": "người",
       "text": "10 USD"}, "10 USD/người"),
     ({"kind": "amount", "parsed": True, "amount": 160000, "currency": "VND", "text": "x"},
      "160.000 đồng"),
     ({"kind": "free", "parsed": True, "text": "Miễn phí"}, "miễn phí")],
)  # fmt: skip
def test_a_fee_is_shown_with_its_own_currency(fee, shown) -> None:
    assert format_fee(fee) == shown


def test_no_fee_in_usd_anywhere_in_the_catalogue_is_shown_in_dong() -> None:
    usd = 0
    for record in read_catalog():
        for channel in parse_record(record).channels:
            fee = channel.fee.model_dump()
            if fee["kind"] == "amount" and fee["currency"] == "USD":
                usd += 1
                assert "USD" in format_fee(fee) and "đồng" not in format_fee(fee), record

    assert usd > 0  # the catalogue has them (visas, foreigners' permits)
