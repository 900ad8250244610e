"""What the automatic journals are computed from, and the change marks (core.change_marks) that say
one of those inputs moved, so a periodic journal sync with nothing to do reads one small document
per organization instead of its whole history (issue 17).

The inputs and who bumps their mark (receivers connected in LedgerConfig.ready()):
- `transactions`: wallets.signals.transactions_changed (every import, record, edit, delete and chain
  confirmation announces it);
- `prices`: a daily price quote saved or deleted (the organization's own, or installation-wide shared
  market data). Latest quotes (no day) move every minute and only value today's rows without a value:
  the daily full sync picks those up rather than every sync re-running;
- `books_settings`: the organization saved (cost-basis method, lot scope, calendar, lock date).
"""

from __future__ import annotations

from accounts.models import User
from core.change_marks import mark_changed, marks_read
from core.time_index import time_index_total
from wallets.models import Transaction

TOPICS = ("transactions", "prices", "books_settings")
INSTALLATION_TOPICS = ("prices",)


def on_transactions_changed(sender, user_id=None, organization_id=None, **kwargs) -> None:
    if organization_id is None and user_id not in (None, "None"):
        user = User.objects.filter(pk=user_id).only("organization").first()
        organization_id = user.organization_id if user is not None else None
    if organization_id is not None:
        mark_changed(organization_id=organization_id, topic="transactions")


def on_price_quote_changed(sender, instance, **kwargs) -> None:
    if instance.day is not None:
        mark_changed(organization_id=instance.organization_id, topic="prices")


def on_organization_saved(sender, instance, **kwargs) -> None:
    mark_changed(organization_id=instance.pk, topic="books_settings")


def inputs_fingerprint(organization_id) -> tuple:
    """A key that moves whenever an input of the organization's books moves: its change marks and its
    transactions' row counts per day (core.time_index, moved by every insert, delete and date change
    even without an announcement). Two small reads; read it before the data it keys (core.memo)."""
    marks = marks_read(organization_id=organization_id, topics=TOPICS, installation_topics=INSTALLATION_TOPICS)
    rows = time_index_total(scope=Transaction.time_index_scope, organization_id=organization_id)
    return (str(organization_id), tuple(sorted(marks.items())), rows)
