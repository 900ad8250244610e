"""Classifier benchmark (pure engine, no database): does it learn from the accountant, and how fast?

    .venv/bin/python bench/classification.py [--transactions 1300] [--seed 11] [--threshold 0.8] [--noise 0.03]

1. A labelled history is generated HERE, by rules of this script only (it imports nothing of the
   classifier but its public input and output types): an organization with vendors it pays (monthly,
   amounts around each vendor's own level, some personal), employees paid at the end of the month,
   clients paying in ETH or USDC (a share of them matched to invoices by the app), an exchange it buys
   from and sells to, a DEX router it swaps on, a staking contract paying small rewards, airdrops
   from ever-new addresses, own transfers, gas-only calls; plus ambiguous cases (a counterparty that is
   both a client and a supplier, one-off vendors never seen again) and noise (a share of the true
   labels flipped, as a tired accountant would).
2. It is replayed in time order as a user would: the classifier suggests a label for each new
   transaction (layer 1 rules, layer 2 the learner), then the true label is revealed as an override
   and the learner learns it (`partial_fit`).
3. Printed: for the 100 transactions classified right after the learner has seen 10, 50, 200 and 1000
   labels, the accuracy of the label (an empty suggestion counts as wrong), the accuracy of the
   category, the share sent to review (empty or below the threshold), and the accuracy of those
   applied automatically (at or above the threshold); then the time per classification and per
   learnt label (median, p95).
"""

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ai_audit.classification.engine import Learner, TxFacts, classify  # noqa: E402

# The app's vocabulary (wallets.services.transactions.TransactionLabel / TransactionCategory).
LABELS = ("buy", "sell", "swap", "income", "staking reward", "airdrop", "mining", "payment", "salary",
          "invoice payment", "fee", "own transfer", "gift", "lost")
CATEGORIES = ("business", "personal", "trading")
CHECKPOINTS = (10, 50, 200, 1000)
WINDOW = 100
ROUTER = "0x7a250d5630b4cf539739df2c5dacb4c659f2488d"  # a public DEX router address
SWAP_SELECTOR = "0x38ed1739"


def address(rng) -> str:
    return "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))


def history(n: int, seed: int, noise: float) -> list[tuple[TxFacts, str, str]]:
    """(facts, true label, true category) in time order, by this script's own rules."""
    rng = random.Random(seed)
    own = [address(rng) for _ in range(3)]
    vendors = [{"address": address(rng), "asset": rng.choice(["USDC", "USDC", "ETH"]),
                "level": Decimal(rng.choice([40, 120, 300, 900, 2500])), "words": rng.choice(
                    ["hosting servers", "office rent", "legal advice", "design work", "software licence",
                     "coworking", "accounting services", "marketing agency"]),
                "category": "personal" if rng.random() < 0.2 else "business"} for _ in range(10)]
    employees = [{"address": address(rng), "level": Decimal(rng.choice([2500, 3200, 4100, 5200]))} for _ in range(5)]
    clients = [{"address": address(rng), "asset": rng.choice(["ETH", "USDC"]),
                "level": Decimal(rng.choice([800, 2000, 6000])), "matched": rng.random() < 0.5} for _ in range(6)]
    exchange, staking = address(rng), address(rng)
    both = {"address": address(rng)}  # a partner who is a client and a supplier
    kinds = [("vendor", 30), ("salary", 12), ("client", 16), ("buy", 7), ("sell", 5), ("swap", 5),
             ("staking", 9), ("airdrop", 3), ("own", 5), ("gas", 3), ("partner", 3), ("one_off", 4)]
    names, weights = zip(*kinds)
    when = datetime(2024, 1, 1, 9, tzinfo=UTC)
    rows = []
    for _ in range(n):
        when += timedelta(hours=rng.uniform(2, 30))
        kind = rng.choices(names, weights)[0]
        text, fee, matched, selector, called = "", Decimal("0.0004"), "", "", ""
        if kind == "vendor":
            v = rng.choice(vendors)
            amount = (v["level"] * Decimal(rng.uniform(0.8, 1.25))).quantize(Decimal("0.01"))
            row = ("out", v["asset"], amount, v["address"], v["words"] if rng.random() < 0.7 else "")
            label, category = "payment", v["category"]
        elif kind == "salary":
            e = rng.choice(employees)
            when = when.replace(day=rng.randint(25, 28))
            row = ("out", "USDC", e["level"], e["address"], "salary" if rng.random() < 0.5 else "")
            label, category = "salary", "business"
        elif kind == "client":
            c = rng.choice(clients)
            amount = (c["level"] * Decimal(rng.uniform(0.5, 1.5))).quantize(Decimal("0.01"))
            row = ("in", c["asset"], amount, c["address"], "")
            matched = "invoice" if c["matched"] and rng.random() < 0.9 else ""
            label, category = ("invoice payment" if matched else "income"), "business"
        elif kind == "buy":
            row = ("in", "ETH", Decimal(rng.uniform(0.2, 3)).quantize(Decimal("0.0001")), exchange, "")
            label, category = "buy", "trading"
        elif kind == "sell":
            row = ("out", "ETH", Decimal(rng.uniform(0.2, 3)).quantize(Decimal("0.0001")), exchange, "")
            label, category = "sell", "trading"
        elif kind == "swap":
            row = ("out", rng.choice(["ETH", "USDC"]), Decimal(rng.uniform(50, 5000)).quantize(Decimal("0.01")),
                   ROUTER, "")
            selector, called = SWAP_SELECTOR, ROUTER
            label, category = "swap", "trading"
        elif kind == "staking":
            row = ("in", "ETH", Decimal(rng.uniform(0.001, 0.02)).quantize(Decimal("0.000001")), staking, "")
            fee = Decimal(0)
            label, category = "staking reward", "business"
        elif kind == "airdrop":
            row = ("in", rng.choice(["UNI", "ARB", "OP"]), Decimal(rng.randint(50, 900)), address(rng), "")
            fee = Decimal(0)
            label, category = "airdrop", "personal"
        elif kind == "own":
            a, b = rng.sample(own, 2)
            row = ("out", "ETH", Decimal(rng.uniform(0.5, 5)).quantize(Decimal("0.001")), b, "")
            label, category = "own transfer", "business"
        elif kind == "gas":
            row = ("out", "ETH", Decimal(0), address(rng), "")
            label, category = "fee", "business"
        elif kind == "partner":  # ambiguous: the same address pays us and is paid by us
            direction = rng.choice(["in", "out"])
            row = (direction, "USDC", Decimal(rng.uniform(100, 3000)).quantize(Decimal("0.01")), both["address"], "")
            label, category = ("income" if direction == "in" else "payment"), "business"
        else:  # one-off vendor, never seen again
            row = ("out", "USDC", Decimal(rng.uniform(20, 800)).quantize(Decimal("0.01")), address(rng),
                   rng.choice(["conference ticket", "", "hardware", "", "travel"]))
            label, category = "payment", rng.choice(["business", "business", "personal"])
        direction, asset, amount, counterparty, text = row
        if rng.random() < noise and kind not in ("own", "gas", "swap"):
            label = rng.choice([x for x in ("payment", "income", "salary", "gift") if x != label])
        facts = TxFacts(direction=direction, asset=asset, amount=amount, when=when,
                        fiat_value=amount if asset == "USDC" else amount * 2000, fee=fee if direction == "out" else Decimal(0),
                        counterparty=counterparty, counterparty_is_own=kind == "own", method_selector=selector,
                        called_contract=called, description=text, source="chain", matched_by=matched)
        rows.append((facts, label, category))
    return rows


def replay(rows, threshold: Decimal):
    learner = Learner(LABELS, CATEGORIES)
    windows = {n: [] for n in CHECKPOINTS}
    classify_times, learn_times = [], []
    for facts, label, category in rows:
        started = time.perf_counter()
        suggestion = classify(facts, learner)
        classify_times.append(time.perf_counter() - started)
        for n in CHECKPOINTS:
            if learner.labels_seen >= n and len(windows[n]) < WINDOW:
                windows[n].append((suggestion, label, category))
        started = time.perf_counter()
        learner.learn([(facts, label, category)])  # the accountant's override, revealed
        learn_times.append(time.perf_counter() - started)
    return windows, classify_times, learn_times, learner


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    –"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=1300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threshold", type=Decimal, default=Decimal("0.8"))
    parser.add_argument("--noise", type=float, default=0.03)
    args = parser.parse_args()
    rows = history(args.transactions, args.seed, args.noise)
    windows, classify_times, learn_times, learner = replay(rows, args.threshold)
    print(f"{args.transactions} transactions, seed {args.seed}, noise {args.noise:.0%}, review threshold "
          f"{args.threshold}; each window = the {WINDOW} transactions classified right after N labels")
    print(f"{'labels':>7} | {'label ok':>8} | {'category ok':>11} | {'to review':>9} | {'applied':>7} | "
          f"{'applied ok':>10} | {'by rules':>8}")
    for n in CHECKPOINTS:
        window = windows[n]
        if not window:
            print(f"{n:>7} | (history too short)")
            continue
        ok = sum(s.label == label for s, label, _ in window)
        cat_ok = sum(s.category == category for s, _, category in window)
        applied = [(s, label) for s, label, _ in window if s.label and s.confidence >= args.threshold]
        applied_ok = sum(s.label == label for s, label in applied)
        rules = sum(s.layer == "rule" for s, _, _ in window)
        print(f"{n:>7} | {pct(ok, len(window)):>8} | {pct(cat_ok, len(window)):>11} | "
              f"{pct(len(window) - len(applied), len(window)):>9} | {len(applied):>7} | "
              f"{pct(applied_ok, len(applied)):>10} | {pct(rules, len(window)):>8}")

    def ms(values, q):
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(f"classify: median {1000 * statistics.median(classify_times):.2f} ms, p95 {ms(classify_times, 0.95):.2f} ms "
          f"per transaction; learn one label: median {1000 * statistics.median(learn_times):.2f} ms, "
          f"p95 {ms(learn_times, 0.95):.2f} ms; stored learner {len(learner.dumps()) / 1024:.0f} KiB "
          f"after {learner.labels_seen} labels")


if __name__ == "__main__":
    main()
