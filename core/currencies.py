"""The fiat currencies the books can be kept in: an organization's reporting fiat, the values of
imported rows, the fiat legs and fees the importer recognises as fiat. Plain data (no Django), so the
pure parsers (wallets.koinly_format) and the commands of every app use the one list."""

REPORTING_FIATS = frozenset({"USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "NOK", "DKK", "NZD", "SGD",
                             "HKD", "INR", "BRL", "ZAR", "MXN", "PLN", "CZK", "KRW"})


def normalise_fiat(code: str) -> str | None:
    """The upper-cased code when it is a supported reporting fiat, else None."""
    code = (code or "").strip().upper()
    return code if code in REPORTING_FIATS else None
