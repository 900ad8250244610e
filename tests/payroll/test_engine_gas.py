"""The network fee borne by the employee (payroll.engine.gas, pure): hand-worked ETH and token cases,
the refusals, and the property that the amount sent plus the fee charged is the net pay to the
token's last digit."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from payroll.engine import PayrollError, employee_gas_charge, token_amount


def test_eth_payout_hand_worked():
    # Net pay 4,250.00 at 2,000 -> 2.125 ETH. 21,000 gas x 30 gwei = 630,000 gwei = 0.00063 ETH.
    net, _ = token_amount(D("4250.00"), D("2000"), 18)
    charge = employee_gas_charge(net_amount=net, decimals=18, gas_limit=21000, max_fee_per_gas=30 * 10 ** 9)
    assert charge.fee_wei == 630_000 * 10 ** 9
    assert charge.fee_eth == D("0.00063") and charge.fee_amount == D("0.00063")
    assert charge.sent_amount == D("2.12437")
    assert charge.sent_units == 2_124_370_000_000_000_000 and charge.fee_units == 630_000_000_000_000
    assert charge.net_units == 2_125 * 10 ** 15


def test_token_payout_hand_worked():
    # 3,000.00 of a 6-decimal dollar token at 1.00 = 3,000 TUSD. Gas 52,000 x 25 gwei = 0.0013 ETH; at
    # 2,000 per ETH = 2.60 -> 2.600000 TUSD charged, 2,997.400000 sent.
    charge = employee_gas_charge(net_amount=D("3000.000000"), decimals=6, gas_limit=52000,
                                 max_fee_per_gas=25 * 10 ** 9, eth_rate=D("2000"), asset_rate=D("1.00"))
    assert charge.fee_eth == D("0.0013") and charge.fee_amount == D("2.600000")
    assert charge.sent_amount == D("2997.400000") and charge.sent_units == 2_997_400_000


def test_token_fee_rounds_half_even_at_the_tokens_last_digit():
    # 21,000 x 1 wei = 21,000 wei = 2.1e-14 ETH; x 3,000 / 1.5 = 4.2e-11 token -> 0 at 6 decimals...
    tiny = employee_gas_charge(net_amount=D("10"), decimals=6, gas_limit=21000, max_fee_per_gas=1,
                               eth_rate=D("3000"), asset_rate=D("1.5"))
    assert tiny.fee_amount == D("0.000000") and tiny.sent_amount == D("10")
    # ... and 0.0000025 rounds to even 0.000002, 0.0000035 to 0.000004.
    half = employee_gas_charge(net_amount=D("1"), decimals=6, gas_limit=25, max_fee_per_gas=10 ** 11,
                               eth_rate=D("1"), asset_rate=D("1"))
    assert half.fee_eth == D("0.0000025") and half.fee_amount == D("0.000002")
    odd = employee_gas_charge(net_amount=D("1"), decimals=6, gas_limit=35, max_fee_per_gas=10 ** 11,
                              eth_rate=D("1"), asset_rate=D("1"))
    assert odd.fee_amount == D("0.000004")


@pytest.mark.parametrize("net", ["0.00063", "0.0006", "0"])
def test_a_fee_that_leaves_nothing_to_send_is_refused(net):
    with pytest.raises(PayrollError) as exc:
        employee_gas_charge(net_amount=D(net), decimals=18, gas_limit=21000, max_fee_per_gas=30 * 10 ** 9,
                            what="payslip 2026-01-001")
    assert exc.value.code == "gas_exceeds_net_pay" and "2026-01-001" in exc.value.message
    assert exc.value.details["fee_amount"] == "0.000630000000000000"


@pytest.mark.parametrize("kwargs,code", [
    ({"gas_limit": 0}, "invalid_gas"), ({"gas_limit": 21000.5}, "invalid_gas"), ({"max_fee_per_gas": -1}, "invalid_gas"),
    ({"gas_limit": True}, "invalid_gas"), ({"eth_rate": D("2000")}, "invalid_rate"),
    ({"eth_rate": D("0"), "asset_rate": D("1")}, "invalid_rate"), ({"net_amount": D("1.0000001"), "decimals": 6},
                                                                   "invalid_amount"),
    ({"net_amount": 1.5}, "invalid_amount"), ({"decimals": 40}, "invalid_decimals")])
def test_bad_inputs(kwargs, code):
    args = {"net_amount": D("1"), "decimals": 18, "gas_limit": 21000, "max_fee_per_gas": 10 ** 9, **kwargs}
    with pytest.raises(PayrollError) as exc:
        employee_gas_charge(**args)
    assert exc.value.code == code


@settings(max_examples=300, deadline=None)
@given(net_cents=st.integers(min_value=1, max_value=10 ** 9), rate=st.decimals(min_value=D("0.01"), max_value=D("100000"),
                                                                             places=2),
       decimals=st.sampled_from([0, 2, 6, 8, 18]), gas_limit=st.integers(min_value=21000, max_value=500_000),
       max_fee=st.integers(min_value=0, max_value=500 * 10 ** 9), token=st.booleans(),
       eth_rate=st.decimals(min_value=D("1"), max_value=D("10000"), places=2))
def test_sent_plus_fee_is_the_net_pay_to_the_last_digit(net_cents, rate, decimals, gas_limit, max_fee, token, eth_rate):
    net, net_units = token_amount(D(net_cents).scaleb(-2), rate, decimals)
    rates = {"eth_rate": eth_rate, "asset_rate": rate} if token else {}
    if not token:
        decimals = 18  # an ETH payout is in wei
        net, net_units = token_amount(D(net_cents).scaleb(-2), rate, 18)
    try:
        charge = employee_gas_charge(net_amount=net, decimals=decimals, gas_limit=gas_limit, max_fee_per_gas=max_fee,
                                     **rates)
    except PayrollError as exc:
        assert exc.code == "gas_exceeds_net_pay"
        fee = D(exc.details["fee_amount"])
        assert fee >= net  # refused only when nothing would be left to send
        return
    assert charge.sent_amount + charge.fee_amount == net
    assert charge.sent_units + charge.fee_units == net_units
    assert charge.sent_amount > 0 and charge.fee_amount >= 0
    assert charge.fee_wei == gas_limit * max_fee
    for amount in (charge.sent_amount, charge.fee_amount):
        assert amount == amount.quantize(D(1).scaleb(-decimals))  # exact in the asset's decimals
    if not token:
        assert charge.fee_units == charge.fee_wei  # an ETH payout is charged the wei it may cost, exactly


@pytest.mark.django_db
def test_the_migrations_of_payroll_match_its_models():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("makemigrations", "payroll", "--check", "--dry-run", stdout=out)  # exits 1 on a missing one
    assert "No changes detected" in out.getvalue()
