"""The network fee charged to an employee who bears the gas of their crypto payout (the organization's
setting `gas_fee_bearer = employee`).

The rule (docs/payroll.md, "Gas borne by the employee"):
- The fee is fixed ONCE, when the payout's terms are fixed (the processing moment, before anything is
  signed), and stored with the terms; a retry (of the call, the task, after a kill -9) sends the
  stored amount and never recomputes it.
- In ETH: the maximum the transfer may cost at that moment, gas limit x max fee per gas (wei, an exact
  integer). For an ETH payout that IS the fee in the payout asset.
- For an ERC-20 payout the gas is still paid in ETH: the fee in the token is that ETH fee converted at
  the stored rates (fiat per ETH / fiat per token, both of the processing moment), rounded half-even to
  the token's decimals.
- Deducted from the net pay converted to the asset: sent = net - fee, so sent + fee = net to the
  token's last digit. A fee that leaves nothing to send (sent <= 0) is refused: `gas_exceeds_net_pay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from payroll.engine.rounding import EXACT, PayrollError, to_money

WEI_PER_ETH = 10 ** 18


@dataclass(frozen=True)
class GasCharge:
    gas_limit: int
    max_fee_per_gas: int  # wei
    fee_wei: int  # gas_limit x max_fee_per_gas: the ETH the transfer may cost at most
    fee_eth: Decimal  # fee_wei in ETH, exact
    fee_amount: Decimal  # the fee charged in the payout asset, in its decimals
    fee_units: int  # fee_amount in the asset's base units
    net_amount: Decimal  # the net pay in the asset (before the fee)
    sent_amount: Decimal  # net_amount - fee_amount: what the transfer carries
    sent_units: int

    @property
    def net_units(self) -> int:
        return self.fee_units + self.sent_units


def _units(amount: Decimal, decimals: int) -> int:
    return int(amount.scaleb(decimals, context=EXACT))


def employee_gas_charge(*, net_amount: Decimal, decimals: int, gas_limit: int, max_fee_per_gas: int,
                        eth_rate: Decimal | None = None, asset_rate: Decimal | None = None,
                        what: str = "payslip") -> GasCharge:
    """The fee charged to the employee and the amount sent, for a payout of `net_amount` (the net pay
    already converted to the asset, in its `decimals`). ETH payouts: leave both rates None. Token
    payouts: `eth_rate` and `asset_rate` are fiat per whole ETH and per whole token."""
    net_amount = to_money(net_amount, "net_amount")
    decimals = int(decimals)
    if not 0 <= decimals <= 36:
        raise PayrollError("invalid_decimals", "A token has 0 to 36 decimals.")
    unit = Decimal(1).scaleb(-decimals)
    if net_amount != net_amount.quantize(unit, context=EXACT):
        raise PayrollError("invalid_amount", f"net_amount has more than {decimals} decimals.")
    if isinstance(gas_limit, bool) or isinstance(max_fee_per_gas, bool) or int(gas_limit) != gas_limit \
            or int(max_fee_per_gas) != max_fee_per_gas or gas_limit <= 0 or max_fee_per_gas < 0:
        raise PayrollError("invalid_gas", "The gas limit is a positive integer, the max fee per gas a whole "
                                          "number of wei.")
    gas_limit, max_fee_per_gas = int(gas_limit), int(max_fee_per_gas)
    fee_wei = gas_limit * max_fee_per_gas
    fee_eth = EXACT.divide(Decimal(fee_wei), Decimal(WEI_PER_ETH))
    if (eth_rate is None) != (asset_rate is None):
        raise PayrollError("invalid_rate", "A token payout's fee needs both the ETH rate and the token's rate.")
    if eth_rate is None:
        fee_amount = fee_eth
    else:
        eth_rate, asset_rate = to_money(eth_rate, "eth_rate"), to_money(asset_rate, "asset_rate")
        if eth_rate <= 0 or asset_rate <= 0:
            raise PayrollError("invalid_rate", "A conversion rate is positive.")
        fee_amount = EXACT.divide(EXACT.multiply(fee_eth, eth_rate), asset_rate)
    fee_amount = fee_amount.quantize(unit, rounding=ROUND_HALF_EVEN, context=EXACT)
    sent_amount = EXACT.subtract(net_amount, fee_amount)
    if sent_amount <= 0:
        raise PayrollError("gas_exceeds_net_pay",
                           f"The {what}'s net pay ({net_amount.normalize():f}) does not cover the network fee "
                           f"borne by the employee ({fee_amount.normalize():f}): nothing would be sent.",
                           {"net_amount": f"{net_amount:f}", "fee_amount": f"{fee_amount:f}"})
    return GasCharge(gas_limit=gas_limit, max_fee_per_gas=max_fee_per_gas, fee_wei=fee_wei, fee_eth=fee_eth,
                     fee_amount=fee_amount, fee_units=_units(fee_amount, decimals), net_amount=net_amount,
                     sent_amount=sent_amount, sent_units=_units(sent_amount, decimals))
