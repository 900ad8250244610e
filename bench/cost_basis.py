"""Cost-basis engine benchmark (pure Python, no database).

    .venv/bin/python bench/cost_basis.py [--trades 100000] [--seed 7] [--no-memory]

Generates a deterministic history (seeded): buys, sells, swaps, income, spends, gifts, own
transfers, fiat and crypto fees, over 6 assets and 4 wallets, every row valid per wallet. Then times
`compute` for every method and lot scope and prints seconds, trades/s and the number of disposal
rows; with memory on (the default) a second, separate run per method measures the peak of Python
allocations with tracemalloc (it slows the engine, so it is never part of the timing).
"""

import argparse
import gc
import random
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.cost_basis import METHODS, Trade, compute  # noqa: E402

ASSETS = {"BTC": 30000, "ETH": 2000, "SOL": 60, "ADA": Decimal("0.4"), "LINK": 12, "USDC": 1}
WALLETS = ("exchange", "ledger", "metamask", "cold")
EIGHT = Decimal("1e-8")


def generate(count: int, seed: int) -> list[Trade]:
    rng = random.Random(seed)
    held = {(w, a): Decimal(0) for w in WALLETS for a in ASSETS}
    when = datetime(2018, 1, 1, tzinfo=timezone.utc)
    trades: list[Trade] = []

    def price(asset: str) -> Decimal:
        return Decimal(ASSETS[asset]) * Decimal(rng.randint(50, 200)) / 100

    def amount(asset: str) -> Decimal:  # about 10-2,000 USD worth
        return (Decimal(rng.randint(10, 2000)) / price(asset)).quantize(EIGHT, rounding=ROUND_DOWN) or EIGHT

    def part(quantity: Decimal) -> Decimal:
        return (quantity * Decimal(rng.randint(1, 9)) / 10).quantize(EIGHT, rounding=ROUND_DOWN)

    while len(trades) < count:
        when += timedelta(minutes=rng.randint(0, 60))
        wallet, asset = rng.choice(WALLETS), rng.choice(list(ASSETS))
        roll = rng.random()
        ref = f"tx{len(trades)}"
        if roll < 0.35 or held[(wallet, asset)] < EIGHT * 100:  # buy, sometimes with a fee
            quantity = amount(asset)
            fee = {}
            if rng.random() < 0.5:
                fee = {"fee_asset": "USD", "fee_amount": Decimal(rng.randint(1, 500)) / 100}
            elif held[(wallet, "ETH")] > Decimal("0.01"):
                fee = {"fee_asset": "ETH", "fee_amount": Decimal("0.001"), "fee_value": Decimal(2)}
                held[(wallet, "ETH")] -= Decimal("0.001")
            trades.append(Trade(when, sent_asset="USD", sent_amount=(quantity * price(asset)).quantize(Decimal("0.01")),
                                received_asset=asset, received_amount=quantity, wallet=wallet, ref=ref, **fee))
            held[(wallet, asset)] += quantity
        elif roll < 0.55:  # sell, fee in the sold asset priced at the trade's rate
            quantity = part(held[(wallet, asset)])
            fee_quantity = (quantity / 1000).quantize(EIGHT, rounding=ROUND_DOWN)
            fee = {"fee_asset": asset, "fee_amount": fee_quantity} if fee_quantity else {}
            trades.append(Trade(when, sent_asset=asset, sent_amount=quantity, received_asset="USD",
                                received_amount=(quantity * price(asset)).quantize(Decimal("0.01")), wallet=wallet,
                                ref=ref, **fee))
            held[(wallet, asset)] -= quantity + fee_quantity
        elif roll < 0.72:  # swap
            target = rng.choice([a for a in ASSETS if a != asset])
            quantity = part(held[(wallet, asset)])
            worth = (quantity * price(asset)).quantize(Decimal("0.01"))
            received = (worth / price(target)).quantize(EIGHT, rounding=ROUND_DOWN) or EIGHT
            trades.append(Trade(when, sent_asset=asset, sent_amount=quantity, received_asset=target,
                                received_amount=received, net_worth=worth, wallet=wallet, ref=ref))
            held[(wallet, asset)] -= quantity
            held[(wallet, target)] += received
        elif roll < 0.85:  # income
            quantity = amount(asset) / 10
            trades.append(Trade(when, received_asset=asset, received_amount=quantity,
                                net_worth=(quantity * price(asset)).quantize(Decimal("0.01")),
                                label=rng.choice(["staking", "reward", "mining", "airdrop"]), wallet=wallet, ref=ref))
            held[(wallet, asset)] += quantity
        elif roll < 0.95:  # own transfer with a network fee
            target = rng.choice([w for w in WALLETS if w != wallet])
            quantity = part(held[(wallet, asset)])
            fee_quantity = (quantity / 500).quantize(EIGHT, rounding=ROUND_DOWN)
            fee = {"fee_asset": asset, "fee_amount": fee_quantity, "fee_value": Decimal("1.50")} if fee_quantity else {}
            trades.append(Trade(when, sent_asset=asset, sent_amount=quantity, wallet=wallet, to_wallet=target, ref=ref, **fee))
            held[(wallet, asset)] -= quantity + fee_quantity
            held[(target, asset)] += quantity
        else:  # spend or gift
            quantity = part(held[(wallet, asset)]) / 2
            label = rng.choice(["payment", "cost", "gift"])
            worth = (quantity * price(asset)).quantize(Decimal("0.01"))
            trades.append(Trade(when, sent_asset=asset, sent_amount=quantity, label=label, net_worth=worth,
                                wallet=wallet, ref=ref))
            held[(wallet, asset)] -= quantity
    return trades


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    trades = generate(args.trades, args.seed)
    print(f"generated {len(trades):,} trades (seed {args.seed}) in {time.perf_counter() - started:.2f} s; "
          f"{trades[0].date.date()} .. {trades[-1].date.date()}, {len(ASSETS)} assets, {len(WALLETS)} wallets")
    print(f"python {sys.version.split()[0]}")
    print(f"{'method':<6} {'scope':<7} {'seconds':>8} {'trades/s':>10} {'disposals':>10} {'open lots':>10} {'peak MiB':>9}")
    for method in METHODS:
        for scope in ("all", "wallet") if method != "uk" else ("all",):
            gc.collect()
            started = time.perf_counter()
            result = compute(trades, method=method, lot_scope=scope)
            seconds = time.perf_counter() - started
            peak = ""
            if not args.no_memory:
                del result
                gc.collect()
                tracemalloc.start()
                result = compute(trades, method=method, lot_scope=scope)
                peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:.1f}"
                tracemalloc.stop()
            print(f"{method:<6} {scope:<7} {seconds:>8.2f} {len(trades) / seconds:>10,.0f} "
                  f"{len(result.disposals):>10,} {len(result.open_lots):>10,} {peak:>9}")
            del result


if __name__ == "__main__":
    main()
