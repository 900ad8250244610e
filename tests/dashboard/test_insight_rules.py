"""The insight rules (pure): each fires on the data it describes, with the numbers behind it, and stays
quiet just below its threshold."""

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.cost_basis import Lot
from reporting.dashboard.insights import (Fee, InsightInput, Outflow, Thresholds, concentration, fees_trend,
                                          insights_compute, stale_prices, tax_opportunities, unmonitored_wallets,
                                          unusual_outflows)

D = Decimal
NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
LIMITS = Thresholds()


def data(**fields):
    return InsightInput(fiat="USD", now=NOW, today=NOW.date(), **fields)


def test_concentration_above_the_share_only():
    found = concentration(data(holdings={"ETH": D("600"), "BTC": D("400")}), LIMITS)
    assert [(i.kind, i.figures["asset"], i.figures["share"]) for i in found] == [("concentration", "ETH", D("0.6"))]
    assert found[0].link == "/app/portfolio/" and "600.00 USD" in found[0].message
    assert concentration(data(holdings={"ETH": D("500"), "BTC": D("500")}), LIMITS) == []  # at, not above
    assert concentration(data(holdings={}), LIMITS) == []


@given(st.lists(st.decimals(min_value=1, max_value=10**9, places=2), min_size=1, max_size=8))
def test_at_most_one_asset_is_concentrated_above_half(values):
    holdings = {f"A{i}": value for i, value in enumerate(values)}
    found = concentration(data(holdings=holdings), LIMITS)
    assert len(found) <= 1
    total = sum(values)
    assert all(i.figures["value"] * 2 > total for i in found)


def history(wallet, values, start=NOW - dt.timedelta(days=200)):
    return [Outflow(wallet, start + dt.timedelta(days=n), D(v)) for n, v in enumerate(values)]


def test_an_outflow_far_above_the_wallets_median_is_unusual():
    outflows = history("hot", ["100", "120", "90", "110", "100"]) + [Outflow("hot", NOW - dt.timedelta(days=2), D("1000"), "abc")]
    (found,) = unusual_outflows(data(outflows=outflows), LIMITS)
    assert found.figures["typical"] == D("100") and found.figures["times"] == D("10.0")
    assert found.link.endswith("/abc/change/")
    # 5x the median is not "more than" 5x; an old outflow is not recent; too short a history says nothing.
    at_limit = history("hot", ["100"] * 5) + [Outflow("hot", NOW - dt.timedelta(days=1), D("500"))]
    assert unusual_outflows(data(outflows=at_limit), LIMITS) == []
    old = history("hot", ["100"] * 5) + [Outflow("hot", NOW - dt.timedelta(days=40), D("5000"))]
    assert unusual_outflows(data(outflows=old), LIMITS) == []
    short = history("hot", ["100"] * 4) + [Outflow("hot", NOW - dt.timedelta(days=1), D("5000"))]
    assert unusual_outflows(data(outflows=short), LIMITS) == []
    # Another wallet's history does not count.
    mixed = history("cold", ["100"] * 5) + [Outflow("hot", NOW - dt.timedelta(days=1), D("5000"))]
    assert unusual_outflows(data(outflows=mixed), LIMITS) == []


def test_fees_trend_compares_two_windows():
    fees = [Fee(NOW - dt.timedelta(days=45), D("10")), Fee(NOW - dt.timedelta(days=5), D("16"))]
    (found,) = fees_trend(data(fees=fees), LIMITS)
    assert found.figures["recent"] == D("16") and found.figures["previous"] == D("10") and found.title == "Fees up 60%"
    assert fees_trend(data(fees=[Fee(NOW - dt.timedelta(days=45), D("10")), Fee(NOW - dt.timedelta(days=5), D("15"))]),
                      LIMITS) == []  # +50% is not more than 50%
    assert fees_trend(data(fees=[Fee(NOW - dt.timedelta(days=5), D("15"))]), LIMITS) == []  # nothing to compare


def test_harvestable_losses_and_lots_turning_long_term():
    lots = [Lot("ETH", "hot", D("1"), dt.date(2025, 7, 10), D("3000")),  # long-term from 2026-07-11
            Lot("BTC", "hot", D("1"), dt.date(2026, 1, 1), D("50000"))]
    found = {i.kind: i for i in tax_opportunities(data(open_lots=lots, prices={"ETH": D("2500"), "BTC": D("60000")}), LIMITS)}
    assert found["harvestable_losses"].figures["total"] == D("500")
    assert found["harvestable_losses"].figures["largest_asset"] == "ETH"
    assert found["turning_long_term"].figures["first_date"] == dt.date(2025, 7, 11) or \
        found["turning_long_term"].figures["first_date"] == dt.date(2026, 7, 11)
    assert found["turning_long_term"].figures["lots"] == 1
    assert tax_opportunities(data(open_lots=lots[1:], prices={"BTC": D("60000")}), LIMITS) == []


def test_stale_and_missing_prices_of_held_assets():
    (found,) = stale_prices(data(held_assets=["ETH", "BTC", "DUSD"], price_times={
        "ETH": NOW - dt.timedelta(hours=2), "BTC": NOW - dt.timedelta(hours=30), "DUSD": None}), LIMITS)
    assert found.figures["stale"] == ["BTC"] and found.figures["missing"] == ["DUSD"]
    assert stale_prices(data(held_assets=["ETH"], price_times={"ETH": NOW}), LIMITS) == []


def test_unmonitored_wallets_and_the_order_of_findings():
    assert unmonitored_wallets(data(), LIMITS) == []
    everything = insights_compute(data(holdings={"ETH": D("900"), "BTC": D("100")}, unmonitored_wallets=["cold"]))
    assert [i.kind for i in everything] == ["concentration", "unmonitored_wallets"]  # warnings first
    assert everything[1].figures == {"wallets": ["cold"], "count": 1}
