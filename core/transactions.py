"""The one way to write more than one document: `in_transaction(work)`.

`django.db.transaction.atomic` is a no-op on this backend (stack.md); a real MongoDB transaction is
`django_mongodb_backend.transaction.atomic`, and two of them touching the same documents conflict
(`WriteConflict`, labelled `TransientTransactionError`): the loser must run again from the start.
Every service that writes more than one document therefore calls

    result = in_transaction(lambda: ...)        # or a nested `def work(): ...`

which opens the transaction, retries the whole unit of work after a transient failure (with a short
random back-off), and inside an enclosing transaction simply runs (the outer one owns the retries).
`work` must be safe to run again: it reads what it needs inside, and its side effects are writes in
the transaction or `on_commit` hooks (emails, WebSocket events), which an aborted attempt drops.
Integrity errors (a unique key taken) are never retried: they are answers, not conflicts.

Side effects that must only happen once the writes are durable (an email, a WebSocket event, a task
that reads them) are handed to `after_commit(fn)`: it runs `fn` after the enclosing transaction commits,
never after a rollback, and at once outside a transaction.
"""

from __future__ import annotations

import logging
import random
import time

import pymongo
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections
from django_mongodb_backend.transaction import atomic, on_commit

logger = logging.getLogger(__name__)

TRANSACTION_ATTEMPTS = 30
_WRITE_CONFLICT, _NO_SUCH_TRANSACTION = 112, 251


def is_transient(exc: BaseException) -> bool:
    """A WriteConflict or another error the server marks as worth retrying the transaction for."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, pymongo.errors.PyMongoError):
            if exc.has_error_label("TransientTransactionError"):
                return True
            if isinstance(exc, pymongo.errors.OperationFailure) and exc.code in (_WRITE_CONFLICT,
                                                                                 _NO_SUCH_TRANSACTION):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def in_transaction(work, *, attempts: int = TRANSACTION_ATTEMPTS, using: str = DEFAULT_DB_ALIAS):
    """Run `work()` in a MongoDB transaction, again from the start after a transient failure."""
    connection = connections[using]
    if connection.in_atomic_block_mongo:
        return work()
    for attempt in range(1, attempts + 1):
        try:
            with atomic(using=using):
                return work()
        except (DatabaseError, pymongo.errors.PyMongoError) as exc:
            if attempt == attempts or isinstance(exc, IntegrityError) or not is_transient(exc):
                raise
            logger.info("transaction conflict (attempt %s of %s), retrying: %s", attempt, attempts,
                        exc.__cause__ or exc)
            time.sleep(random.uniform(0, min(0.002 * 2 ** attempt, 0.1)))
    raise AssertionError("unreachable")


def after_commit(effect, *, robust: bool = False, using: str = DEFAULT_DB_ALIAS) -> None:
    """Run `effect()` once the enclosing `in_transaction` commits (never after a rollback); at once
    when there is no transaction. `robust`: an exception in `effect` is logged, not raised."""
    on_commit(effect, using=using, robust=robust)
