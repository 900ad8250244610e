"""Asset units on journal lines: kept exactly, swapped with their line on reversal, validated."""

from decimal import Decimal

import pytest

from ledger.models import JournalEntry
from ledger.services import crypto_asset_account_get_or_create

pytestmark = pytest.mark.django_db
BASE = "/api/journal-entries/"


def _body(organization_id, **line):
    eth = crypto_asset_account_get_or_create(symbol="ETH", organization_id=organization_id)
    return {"date": "2026-03-01", "description": "Buy ETH",
            "line_items": [{"account_code": eth.account_code, "debit_amount": "2500", **line},
                           {"account_code": "1120", "credit_amount": "2500"}]}


def test_units_are_kept_and_reversed_with_their_line(manager_api):
    response = manager_api("post", BASE, _body(manager_api.user.organization_id, asset="eth", quantity="1.000000000000000001"))
    assert response.status_code == 201, response.content
    entry = response.json()
    assert (entry["line_items"][0]["asset"], entry["line_items"][0]["quantity"]) == ("ETH", "1.000000000000000001")
    assert entry["line_items"][1]["quantity"] is None
    assert manager_api("post", f"{BASE}{entry['id']}/post/").status_code == 200
    reversal = manager_api("post", f"{BASE}{entry['id']}/reverse/").json()
    stored = JournalEntry.objects.get(pk=reversal["id"])
    line = next(line for line in stored.line_items if line.asset)
    assert (line.credit_amount, line.quantity) == (Decimal("2500"), Decimal("1.000000000000000001"))


@pytest.mark.parametrize("line", [{"asset": "ETH"}, {"quantity": "1"}, {"asset": "ETH", "quantity": "0"},
                                  {"asset": "ETH", "quantity": "-1"}, {"asset": "ETH", "quantity": "lots"}])
def test_bad_units_are_422(manager_api, line):
    response = manager_api("post", BASE, _body(manager_api.user.organization_id, **line))
    assert response.status_code == 422, (line, response.content)
    assert not JournalEntry.objects.exists()
