"""UK (HMRC) share matching: the Cryptoassets Manual pooling examples CRYPTO22251-22256 reproduced,
plus the same-day / 30-day / pool edges. "20XX" is taken as 2021 (a year whose 31 March and
20 April straddle the 6 April tax-year start, used by CRYPTO22253).

HMRC prints whole pounds. The engine keeps full precision; where HMRC's rounding shows, the comment
gives the published figure and the test checks the exact one it comes from.
"""

from datetime import date
from decimal import localcontext
from decimal import ROUND_HALF_UP, Decimal as D

import pytest

from ledger.cost_basis import VARIOUS, Trade, TradeError, compute, disposals_in, totals_by_year

from .test_cost_basis import at, only, send, swap

GBP = "GBP"


def gbp_buy(when, asset, quantity, pounds):
    return Trade(when, sent_asset=GBP, sent_amount=D(pounds), received_asset=asset, received_amount=D(quantity))


def gbp_sell(when, asset, quantity, pounds, **extra):
    return Trade(when, sent_asset=asset, sent_amount=D(quantity), received_asset=GBP, received_amount=D(pounds),
                 **extra)


def uk(trades):
    return compute(trades, method="uk", fiat=GBP)


def pool(result, asset):
    lot = only([lot for lot in result.open_lots if lot.asset == asset])
    return lot.quantity, lot.cost


def pounds(value):
    return value.quantize(D(1), rounding=ROUND_HALF_UP)


OPENING = at(2019, 1, 1)  # "holds ... in a section 104 pool": bought long before the example


def test_crypto22251_basic_section_104_pool_disposal():
    # Victoria: 100 token A for £1,000, then 50 for £125,000 -> pool 150 / £126,000.
    # Sells 50 for £300,000: cost £126,000 x 50/150 = £42,000, gain £258,000; pool 100 / £84,000.
    result = uk([
        gbp_buy(at(2021, 1, 1), "A", 100, 1000),
        gbp_buy(at(2021, 9, 18), "A", 50, 125000),
        gbp_sell(at(2021, 12, 1), "A", 50, 300000),
    ])
    disposal = only(result.disposals)
    assert (disposal.proceeds, disposal.cost_basis, disposal.gain) == (D(300000), D(42000), D(258000))
    assert (disposal.date_acquired, disposal.lots[0].rule) == (VARIOUS, "pool")
    assert pool(result, "A") == (D(100), D(84000))
    assert result.fiat == GBP


def test_crypto22252_same_day_rule():
    # Martyn: pool 5,000 token B / £500. On 23 June: sells 1,000 for £800 (morning), buys 1,600 for
    # £1,000 (afternoon), sells 500 for £600 (evening). One disposal of 1,500 for £1,400, matched with
    # the day's acquisition: cost £1,000 x 1,500/1,600 = £937.50 (published £938), gain £462.50
    # (published £462). The other 100 and their £62.50 (published £62) join the pool: 5,100 / £562.50.
    result = uk([
        gbp_buy(OPENING, "B", 5000, 500),
        gbp_sell(at(2021, 6, 23, 9), "B", 1000, 800),
        gbp_buy(at(2021, 6, 23, 14), "B", 1600, 1000),
        gbp_sell(at(2021, 6, 23, 20), "B", 500, 600),
    ])
    disposal = only(result.disposals)
    assert (disposal.quantity, disposal.proceeds, disposal.cost_basis, disposal.gain) == (
        D(1500), D(1400), D("937.5"), D("462.5"))
    assert (disposal.date_acquired, disposal.term, [m.rule for m in disposal.lots]) == (date(2021, 6, 23), "short", ["same-day"])
    assert pool(result, "B") == (D(5100), D("562.5"))
    assert (pounds(disposal.cost_basis), pounds(D(1400) - pounds(disposal.cost_basis))) == (D(938), D(462))


def test_crypto22253_thirty_day_rule_across_the_tax_year_end():
    # Rachel: pool 2,000 token C / £1,000. Sells 1,000 for £400 on 31 March and 500 for £150 on
    # 20 April; buys 700 for £175 (21 April), 500 for £100 (28 April), 500 for £150 (1 May).
    # 31 March: 30-day 21/04 700 (£175) + 28/04 300 (£100 x 300/500 = £60): gain £400 - £235 = £165.
    # 20 April: 30-day 28/04 200 (£40) + 01/05 300 (£150 x 300/500 = £90): gain £150 - £130 = £20.
    # The last 200 of 1 May (£60) go into the pool: 2,200 / £1,060.
    result = uk([
        gbp_buy(OPENING, "C", 2000, 1000),
        gbp_sell(at(2021, 3, 31), "C", 1000, 400),
        gbp_sell(at(2021, 4, 20), "C", 500, 150),
        gbp_buy(at(2021, 4, 21), "C", 700, 175),
        gbp_buy(at(2021, 4, 28), "C", 500, 100),
        gbp_buy(at(2021, 5, 1), "C", 500, 150),
    ])
    march, april = result.disposals
    assert (march.cost_basis, march.gain) == (D(235), D(165))
    assert [(m.rule, m.acquired, m.quantity, m.cost) for m in march.lots] == [
        ("30-day", date(2021, 4, 21), D(700), D(175)), ("30-day", date(2021, 4, 28), D(300), D(60))]
    assert (april.cost_basis, april.gain) == (D(130), D(20))
    assert [(m.acquired, m.quantity, m.cost) for m in april.lots] == [
        (date(2021, 4, 28), D(200), D(40)), (date(2021, 5, 1), D(300), D(90))]
    assert pool(result, "C") == (D(2200), D(1060))
    # 31 March 2021 is in tax year 2020-21, 20 April in 2021-22; the March figure uses April buys,
    # i.e. acquisitions after the end of its tax year (and of the reporting period).
    totals = totals_by_year(result.disposals, method="uk")
    assert [(t.year, t.proceeds, t.cost_basis, t.gains, t.losses, t.net) for t in totals] == [
        (2020, D(400), D(235), D(165), D(0), D(165)),
        (2021, D(150), D(130), D(20), D(0), D(20)),
    ]
    period = disposals_in(result, date(2020, 4, 6), date(2021, 4, 5))
    assert [(d.date_disposed, d.cost_basis) for d in period] == [(date(2021, 3, 31), D(235))]


def test_crypto22254_same_day_rule_with_section_104_pool():
    # Daniel: pool 8,000 token D / £1,000. On 31 January: sells 5,000 for £500; buys 4,000 (£320),
    # 1,000 (£75), 1,000 (£70); sells 2,000 for £142; buys 500 (£35). One disposal of 7,000 for
    # £642, one acquisition of 6,500 for £500: same day 6,500 (£500), pool 500 x £1,000/8,000 =
    # £62.50 (published £63); gain £79.50 (published £79). Pool 7,500 / £937.50 (published £937).
    result = uk([
        gbp_buy(OPENING, "D", 8000, 1000),
        gbp_sell(at(2021, 1, 31, 9), "D", 5000, 500),
        gbp_buy(at(2021, 1, 31, 10), "D", 4000, 320),
        gbp_buy(at(2021, 1, 31, 11), "D", 1000, 75),
        gbp_buy(at(2021, 1, 31, 12), "D", 1000, 70),
        gbp_sell(at(2021, 1, 31, 13), "D", 2000, 142),
        gbp_buy(at(2021, 1, 31, 14), "D", 500, 35),
    ])
    disposal = only(result.disposals)
    assert (disposal.quantity, disposal.proceeds, disposal.cost_basis, disposal.gain) == (
        D(7000), D(642), D("562.5"), D("79.5"))
    assert [(m.rule, m.quantity, m.cost) for m in disposal.lots] == [("same-day", D(6500), D(500)), ("pool", D(500), D("62.5"))]
    assert pool(result, "D") == (D(7500), D("937.5"))
    assert pounds(D("62.5")) == D(63) and D(642) - D(500) - pounds(D("62.5")) == D(79)


def test_crypto22255_thirty_day_rule_with_section_104_pool():
    # Melanie: pool 14,000 token E / £200,000. Sells 4,000 for £160,000 on 30 August, buys 500 for
    # £17,500 on 11 September: 30-day 500 (£17,500) + pool 3,500 x £200,000/14,000 (£50,000),
    # gain £92,500. Pool 10,500 / £150,000.
    result = uk([
        gbp_buy(OPENING, "E", 14000, 200000),
        gbp_sell(at(2021, 8, 30), "E", 4000, 160000),
        gbp_buy(at(2021, 9, 11), "E", 500, 17500),
    ])
    disposal = only(result.disposals)
    assert (disposal.cost_basis, disposal.gain) == (D(67500), D(92500))
    assert [(m.rule, m.quantity, m.cost) for m in disposal.lots] == [("30-day", D(500), D(17500)), ("pool", D(3500), D(50000))]
    assert pool(result, "E") == (D(10500), D(150000))
    # the pool part was held over a year, the 30-day part is short
    assert disposal.term == VARIOUS


def test_crypto22256_same_day_thirty_day_and_pool():
    # Gulferaz: pool 100,000 token F / £300,000.
    # 31 July: buys 10,000 for £45,000 and sells 30,000 for £150,000; 5 August sells 20,000 for
    # £100,000; 6 August buys 50,000 for £225,000; 7 August sells 100,000 for £150,000.
    # 31 July: same day 10,000 (£45,000) + 30-day 6/8 20,000 (£225,000 x 20,000/50,000 = £90,000):
    #   gain £15,000.
    # 5 August: 30-day 6/8 20,000 (£90,000): gain £10,000.
    # The other 10,000 of 6 August (£45,000) join the pool: 110,000 / £345,000.
    # 7 August: pool 100,000 x £345,000 / 110,000 = £313,636.36: loss £163,636.36 (HMRC: £163,636);
    #   pool left 10,000 / £31,363.64 (HMRC: £31,364). The stored copy of the page we had was cut
    #   off after 5 August; the 7 August figures are worked from the same rules.
    result = uk([
        gbp_buy(OPENING, "F", 100000, 300000),
        gbp_buy(at(2021, 7, 31, 10), "F", 10000, 45000),
        gbp_sell(at(2021, 7, 31, 11), "F", 30000, 150000),
        gbp_sell(at(2021, 8, 5), "F", 20000, 100000),
        gbp_buy(at(2021, 8, 6), "F", 50000, 225000),
        gbp_sell(at(2021, 8, 7), "F", 100000, 150000),
    ])
    july, august5, august7 = result.disposals
    assert [(m.rule, m.quantity, m.cost) for m in july.lots] == [("same-day", D(10000), D(45000)), ("30-day", D(20000), D(90000))]
    assert (july.cost_basis, july.gain, july.date_acquired) == (D(135000), D(15000), VARIOUS)
    assert (august5.cost_basis, august5.gain, august5.date_acquired) == (D(90000), D(10000), date(2021, 8, 6))
    with localcontext(prec=50):  # the engine's precision
        expected_cost = D(345000) * 100000 / 110000
        expected_gain = D(150000) - expected_cost
    assert (august7.cost_basis, august7.gain) == (expected_cost, expected_gain)
    assert august7.gain.quantize(D("0.01")) == D("-163636.36")
    quantity, cost = pool(result, "F")
    assert (quantity, cost.quantize(D("0.01"))) == (D(10000), D("31363.64"))
    assert pounds(cost) == D(31364) and pounds(-august7.gain) == D(163636)


# --- edges of the rules -------------------------------------------------------------------------

def test_thirty_day_window_includes_day_30_not_day_31():
    base = [gbp_buy(OPENING, "X", 10, 100)]  # pool at £10 each
    day30 = uk(base + [gbp_sell(at(2021, 3, 1), "X", 1, 50), gbp_buy(at(2021, 3, 31), "X", 1, 40)])
    day31 = uk(base + [gbp_sell(at(2021, 3, 1), "X", 1, 50), gbp_buy(at(2021, 4, 1), "X", 1, 40)])
    assert only(day30.disposals).cost_basis == D(40)  # 30-day match
    assert only(day31.disposals).cost_basis == D(10)  # the pool


def test_same_day_match_takes_priority_over_an_earlier_disposals_thirty_days():
    result = uk([
        gbp_buy(OPENING, "X", 10, 100),  # pool £10 each
        gbp_sell(at(2021, 3, 1), "X", 2, 60),
        gbp_buy(at(2021, 3, 10, 9), "X", 3, 90),  # £30 each
        gbp_sell(at(2021, 3, 10, 17), "X", 2, 70),
    ])
    first, second = result.disposals
    # 10 March: same day 2 of the 3 bought (£60); 1 March: 30-day gets the 1 left (£30) + 1 from pool (£10)
    assert [(m.rule, m.quantity, m.cost) for m in second.lots] == [("same-day", D(2), D(60))]
    assert [(m.rule, m.quantity, m.cost) for m in first.lots] == [("30-day", D(1), D(30)), ("pool", D(1), D(10))]


def test_same_day_disposals_of_several_kinds_are_one_row():
    result = uk([
        gbp_buy(OPENING, "ETH", 10, 1000),  # £100 each
        swap(at(2021, 5, 1), "ETH", 2, "BTC", "0.01", 500, fee_asset="ETH", fee_amount=D("0.1"), ref="s1"),
    ])
    eth = only([d for d in result.disposals if d.asset == "ETH"])
    # swap 2 ETH (proceeds 500 - fee 25) + fee 0.1 ETH (25, rate 500 / 2 ETH): one disposal of 2.1 ETH
    assert (eth.quantity, eth.proceeds, eth.cost_basis, eth.kind, eth.ref) == (D("2.1"), D(500), D(210), "swap+fee", "s1;s1")


def test_gift_on_a_sale_day_is_part_of_the_days_disposal():
    # Issue 10 rule 1: a gift is a disposal at market value (CRYPTO22100). This test used to expect
    # the gift as a removal taking 1/4 of the day's matched cost (£20) and a sale row of 3 at £60;
    # now the gift (worth £40) joins the sale in the day's one disposal.
    result = uk([
        gbp_buy(OPENING, "X", 10, 100),  # pool £10 each
        gbp_buy(at(2021, 6, 1, 9), "X", 2, 60),  # £30 each, same day
        gbp_sell(at(2021, 6, 1, 10), "X", 3, 90, ref="s"),
        send(at(2021, 6, 1, 11), "X", 1, "gift", worth=40, ref="g"),
    ])
    # day's disposal: 4 (3 sold + 1 given) matched same day 2 (£60) + pool 2 (£20) = £80;
    # proceeds 90 + 40 = 130, gain 50
    row = only(result.disposals)
    assert (row.quantity, row.proceeds, row.cost_basis, row.gain) == (D(4), D(130), D(80), D(50))
    assert (row.kind, row.ref) == ("sell+gift", "s;g")
    assert [(m.rule, m.quantity, m.cost) for m in row.lots] == [("same-day", D(2), D(60)), ("pool", D(2), D(20))]
    assert result.removals == []
    assert pool(result, "X") == (D(8), D(80))


def test_loss_on_a_sale_day_is_not_matched_and_leaves_the_pool():
    # Issue 10 rule 2: lost is no disposal (CRYPTO22400). Same day as above with the gift lost instead:
    # it used to take 1/4 of the day's matched cost (£20, the sale 3 at £60); now only the sale is
    # matched: same day 2 (£60) + pool 1 (£10) = £70, gain 90 - 70 = 20; the loss leaves the pool at
    # its average £10 (pool after the day: 10 - 1 - 1 = 8 units, £80).
    result = uk([
        gbp_buy(OPENING, "X", 10, 100),
        gbp_buy(at(2021, 6, 1, 9), "X", 2, 60),
        gbp_sell(at(2021, 6, 1, 10), "X", 3, 90),
        send(at(2021, 6, 1, 11), "X", 1, "lost", ref="l"),
    ])
    row = only(result.disposals)
    assert (row.quantity, row.proceeds, row.cost_basis, row.gain, row.kind) == (D(3), D(90), D(70), D(20), "sell")
    removal = only(result.removals)
    assert (removal.quantity, removal.cost, removal.label, removal.ref) == (D(1), D(10), "lost", "l")
    assert [(m.rule, m.quantity, m.cost) for m in removal.lots] == [("pool", D(1), D(10))]
    assert pool(result, "X") == (D(8), D(80))


def test_uk_refuses_per_wallet_pools():
    with pytest.raises(TradeError, match="lot_scope"):
        compute([], method="uk", lot_scope="wallet")
