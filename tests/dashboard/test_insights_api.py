"""GET /api/dashboard/insights/ over stored data, and the optional language-model phrasing."""

from decimal import Decimal

import pytest

from tests.llm_server import closed_port_url, llm_server
from wallets.models import Wallet
from wallets.prices import price_record

pytestmark = pytest.mark.django_db
D = Decimal


def kinds(client, user):
    client.force_login(user)
    response = client.get("/api/dashboard/insights/")
    assert response.status_code == 200, response.content
    return response.json()


def test_insights_of_the_books(client, books, settings, organization):
    settings.LLM_BASE_URL = ""
    body = kinds(client, books["accountant"])
    found = {i["kind"]: i for i in body["insights"]}
    assert body["phrasing"] == "rules"
    # 1.5 ETH is the whole portfolio; its price was stored just now; the wallet is monitored.
    assert D(found["concentration"]["figures"]["share"]) == 1 and found["concentration"]["link"] == "/app/portfolio/"
    assert "harvestable_losses" not in found  # every lot is worth more than it cost at 4000
    assert "stale_prices" not in found and "unmonitored_wallets" not in found
    Wallet.objects.filter(pk=books["wallet"].pk).update(monitoring_enabled=False)
    price_record(organization=organization, symbol="ETH", price=D("1500"))  # below the 2000 lot's cost
    found = {i["kind"]: i for i in kinds(client, books["accountant"])["insights"]}
    assert found["unmonitored_wallets"]["figures"]["wallets"] == ["treasury"]
    assert D(found["harvestable_losses"]["figures"]["total"]) == D("500")  # 1 ETH cost 2000, now 1500


def test_a_member_without_books_sees_only_their_own(client, books, make_user):
    assert kinds(client, make_user())["insights"] == []


def test_the_language_model_rewords_when_configured_and_is_optional(client, books, settings):
    with llm_server(answer='{"concentration": "Almost everything is in ETH (100%)."}') as server:
        settings.LLM_BASE_URL = server.base_url
        body = kinds(client, books["accountant"])
    found = {i["kind"]: i for i in body["insights"]}
    assert body["phrasing"].startswith("rules+llm:")
    assert found["concentration"]["message"] == "Almost everything is in ETH (100%)."
    assert D(found["concentration"]["figures"]["share"]) == 1  # the numbers are the rule's
    settings.LLM_BASE_URL = closed_port_url()
    body = kinds(client, books["accountant"])
    assert body["phrasing"] == "rules" and body["insights"]


def test_insights_need_a_member(client):
    assert client.get("/api/dashboard/insights/").status_code == 401
