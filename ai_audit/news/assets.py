"""Which crypto assets a news item mentions: symbols ("ETH", "$BTC") as whole words in upper case,
and names ("Ethereum", "bitcoin") in any case. Pure Python (no Django); tested in
tests/ai_audit/news/test_assets.py.

`assets_mentioned(text, known)` takes `known` = {symbol: [names]} (the platform's assets plus the
common ones below) and returns the sorted symbols found.
"""

from __future__ import annotations

import re

COMMON = {
    "BTC": ["bitcoin"], "ETH": ["ethereum", "ether"], "USDT": ["tether"], "USDC": ["usd coin"],
    "BNB": ["binance coin"], "SOL": ["solana"], "XRP": ["ripple"], "ADA": ["cardano"], "DOGE": ["dogecoin"],
    "MATIC": ["polygon"], "POL": [], "DOT": ["polkadot"], "AVAX": ["avalanche"], "LINK": ["chainlink"],
    "LTC": ["litecoin"], "DAI": [], "UNI": ["uniswap"], "TRX": ["tron"], "ARB": ["arbitrum"], "OP": ["optimism"],
}
# Symbols that are also ordinary words: matched only as $SYM or next to "token"/"coin" in upper case.
AMBIGUOUS = {"OP", "UNI", "LINK", "DOT", "SOL", "POL"}
MIN_NAME_LENGTH = 4


def known_assets(platform_assets=()) -> dict[str, list[str]]:
    """COMMON plus (symbol, name) pairs of the platform's assets."""
    known = {symbol: list(names) for symbol, names in COMMON.items()}
    for symbol, name in platform_assets:
        symbol = (symbol or "").strip().upper()
        if not symbol or not re.fullmatch(r"[A-Z0-9]{2,10}", symbol):
            continue
        names = known.setdefault(symbol, [])
        name = (name or "").strip().lower()
        if len(name) >= MIN_NAME_LENGTH and name not in names and name != symbol.lower():
            names.append(name)
    return known


def assets_mentioned(text: str, known: dict[str, list[str]]) -> list[str]:
    found = set()
    lowered = text.lower()
    for symbol, names in known.items():
        escaped = re.escape(symbol)
        if symbol in AMBIGUOUS:
            pattern = rf"(?<![\w$])\${escaped}\b|\b{escaped}\s+(?:token|coin)s?\b"
            if re.search(pattern, text):
                found.add(symbol)
        elif re.search(rf"(?<![\w$])\$?{escaped}(?!\w)", text):
            found.add(symbol)
        for name in names:
            if len(name) >= MIN_NAME_LENGTH and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered):
                found.add(symbol)
                break
    return sorted(found)
