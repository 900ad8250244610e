"""Holding-period terms (rule 5): long when disposed after the first calendar anniversary."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from .model import VARIOUS


@lru_cache(maxsize=4096)  # a history's disposals look up the same acquisition days again and again
def anniversary(acquired: date) -> date:
    """The first anniversary; for 29 February it is 28 February of the next year."""
    try:
        return acquired.replace(year=acquired.year + 1)
    except ValueError:
        return date(acquired.year + 1, 2, 28)


def term(acquired: date, disposed: date) -> str:
    return "long" if disposed > anniversary(acquired) else "short"


def pool_term(earliest: date | None, latest: date | None, disposed: date) -> str:
    """Term of a pool disposal from the acquisitions that fed the pool since it was last empty:
    long if even the latest is long, short if even the earliest is short, otherwise various."""
    if earliest is None or latest is None:
        return VARIOUS
    if disposed > anniversary(latest):
        return "long"
    if disposed <= anniversary(earliest):
        return "short"
    return VARIOUS
