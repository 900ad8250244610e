"""Hooks of the dashboard for the apps above reporting (invoicing, payroll, ...), which reporting never
imports: each registers, in its AppConfig.ready(), a provider of "awaiting" items.

A provider is `fn(actor) -> list[AwaitingItem]`: the items of that app the actor may see (an empty list
when they may see none), computed with that app's own selectors and permission predicates. Providers
are called in registration order; one that raises is logged and left out (a broken app must not take
the dashboard down).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AwaitingItem:
    key: str  # stable machine name, e.g. "invoices_overdue"
    label: str  # for people
    count: int
    url: str  # the page that acts on it
    total: Decimal | None = None  # a money total in the organization's fiat, when one makes sense
    more: bool = False  # `count` is a floor: there are more (a count capped so it never scans a history)


_PROVIDERS: dict[str, Callable] = {}


def awaiting_provider_register(name: str, provider: Callable) -> None:
    """Register (or replace, on a second ready()) the provider `name`."""
    _PROVIDERS[name] = provider


def awaiting_items_from_providers(actor) -> list[AwaitingItem]:
    items: list[AwaitingItem] = []
    for name, provider in list(_PROVIDERS.items()):
        try:
            items.extend(provider(actor))
        except Exception:
            logger.exception("dashboard awaiting provider %s failed", name)
    return items


def awaiting_provider_names() -> list[str]:
    return list(_PROVIDERS)
