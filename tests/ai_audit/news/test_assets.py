"""Assets mentioned by a news item (ai_audit/news/assets.py, pure)."""

import pytest

from ai_audit.news.assets import assets_mentioned, known_assets

KNOWN = known_assets([("DEMO", "Demo Token"), ("bad symbol!", "x"), ("", "empty")])


@pytest.mark.parametrize("text,expected", [
    ("Bitcoin rallies as ETH holds", ["BTC", "ETH"]),
    ("ETHEREUM and bitcoin", ["BTC", "ETH"]),
    ("the ether price", ["ETH"]),
    ("$BTC and $ETH", ["BTC", "ETH"]),
    ("ETHX rises; BTCS falls", []),             # whole symbols only
    ("eth in lower case is not a symbol", []),  # symbols are upper case
    ("$UNI jumps", ["UNI"]),
    ("uni students and a link to a dot", []),   # ambiguous symbols need $ or "token"
    ("LINK token listed", ["LINK"]),
    ("Demo Token launches; DEMO up", ["DEMO"]),
    ("", []),
])
def test_assets_mentioned(text, expected):
    assert assets_mentioned(text, KNOWN) == expected


def test_known_assets_skips_malformed_symbols_and_keeps_common_ones():
    assert "DEMO" in KNOWN and "demo token" in KNOWN["DEMO"]
    assert "BAD SYMBOL!" not in KNOWN and "" not in KNOWN
    assert "BTC" in KNOWN and "bitcoin" in KNOWN["BTC"]
