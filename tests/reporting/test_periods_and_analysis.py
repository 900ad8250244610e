"""Pure parts of reporting: report periods and the tax-planning analysis."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.cost_basis import Lot
from reporting.periods import PeriodError, report_period, tax_year_period
from reporting.tax_analysis import Analysis, analysis_text, harvestable_losses, turning_long_term

D = dt.date


@pytest.mark.parametrize("report_type, anchor, expected", [
    ("DAILY", D(2024, 2, 29), (D(2024, 2, 29), D(2024, 2, 29))),
    ("WEEKLY", D(2024, 12, 31), (D(2024, 12, 30), D(2025, 1, 5))),  # ISO week across a year end
    ("WEEKLY", D(2025, 6, 2), (D(2025, 6, 2), D(2025, 6, 8))),  # a Monday starts its own week
    ("MONTHLY", D(2024, 2, 10), (D(2024, 2, 1), D(2024, 2, 29))),
    ("MONTHLY", D(2025, 12, 31), (D(2025, 12, 1), D(2025, 12, 31))),
    ("QUARTERLY", D(2025, 12, 1), (D(2025, 10, 1), D(2025, 12, 31))),
    ("QUARTERLY", D(2025, 3, 31), (D(2025, 1, 1), D(2025, 3, 31))),
    ("ANNUAL", D(2025, 7, 4), (D(2025, 1, 1), D(2025, 12, 31))),
])
def test_periods_around_a_day(report_type, anchor, expected):
    assert report_period(report_type, method="fifo", anchor=anchor) == expected


def test_uk_tax_years():
    assert tax_year_period(2024, "uk") == (D(2024, 4, 6), D(2025, 4, 5))
    assert report_period("ANNUAL", method="uk", anchor=D(2025, 4, 5)) == (D(2024, 4, 6), D(2025, 4, 5))
    assert report_period("ANNUAL", method="uk", anchor=D(2025, 4, 6)) == (D(2025, 4, 6), D(2026, 4, 5))


@pytest.mark.parametrize("kwargs, message", [
    ({"report_type": "HOURLY", "anchor": D(2025, 1, 1)}, "unknown report type"),
    ({"report_type": "CUSTOM", "start": D(2025, 1, 2)}, "start and an end"),
    ({"report_type": "CUSTOM", "start": D(2025, 1, 2), "end": D(2025, 1, 1)}, "before it starts"),
    ({"report_type": "ANNUAL", "year": 1900}, "out of range"),
    ({"report_type": "MONTHLY"}, "needs a date"),
])
def test_bad_periods(kwargs, message):
    with pytest.raises(PeriodError, match=message):
        report_period(method="fifo", **kwargs)


LOTS = [
    Lot("ETH", "", Decimal("2"), D(2025, 1, 10), Decimal("6000")),  # worth 2 x 2,000 = 4,000: loss 2,000
    Lot("ETH", "", Decimal("1"), D(2025, 11, 20), Decimal("1500")),  # worth 2,000: a gain
    Lot("BTC", "", Decimal("0.1"), D(2024, 12, 20), Decimal("9000")),  # worth 5,000: loss 4,000
    Lot("DOGE", "", Decimal("100"), D(2025, 1, 1), Decimal("10")),  # no price
    Lot("SOL", "", Decimal("3"), "various", Decimal("300")),  # a pool: no date
]
PRICES = {"ETH": Decimal("2000"), "BTC": Decimal("50000"), "SOL": Decimal("90")}


def test_harvestable_losses_largest_first_and_unpriced_listed():
    found, unpriced = harvestable_losses(LOTS, PRICES)
    assert [(h.asset, h.loss) for h in found] == [("BTC", Decimal("4000.0")), ("ETH", Decimal("2000")),
                                                  ("SOL", Decimal("30"))]
    assert unpriced == ["DOGE"]


def test_lots_turning_long_term_within_the_horizon():
    # As of 2025-12-01 with 60 days: the BTC lot (2024-12-20) is long from 2025-12-21, the DOGE lot
    # (2025-01-01) from 2026-01-02 and the ETH lot of 2025-01-10 from 2026-01-11. The ETH lot of
    # 2025-11-20 is a year away; the SOL pool has no date.
    found = turning_long_term(LOTS, PRICES, as_of=D(2025, 12, 1), horizon=60)
    assert [(t.asset, t.long_term_from) for t in found] == [("BTC", D(2025, 12, 21)), ("DOGE", D(2026, 1, 2)),
                                                            ("ETH", D(2026, 1, 11))]
    assert (found[0].value, found[1].value) == (Decimal("5000.0"), None)
    assert turning_long_term(LOTS, PRICES, as_of=D(2025, 12, 21), horizon=60)[0].asset == "DOGE"  # BTC is long now


def test_analysis_text_states_the_figures():
    analysis = Analysis(method_nets={"fifo": Decimal("1000"), "hifo": Decimal("400.005"), "lifo": Decimal("700")})
    analysis.harvestable, analysis.unpriced_assets = harvestable_losses(LOTS, PRICES)
    analysis.turning_long = turning_long_term(LOTS, PRICES, as_of=D(2025, 12, 1))
    text = analysis_text(analysis, method="fifo", fiat="USD", net=Decimal("1000"))
    assert "Unrealised losses of 6,030.00 USD could be harvested across 3 holding(s)" in text
    assert "0.1 BTC bought on 2024-12-20 becomes long-term on 2025-12-21" in text
    assert "HIFO would report 600.00 USD less than FIFO" in text  # 1,000 - 400.005 = 599.995 -> 600.00
    assert "No current price for DOGE" in text
    empty = analysis_text(Analysis(method_nets={"fifo": Decimal(5)}), method="fifo", fiat="USD", net=Decimal(5))
    assert empty.startswith("Nothing to suggest")
