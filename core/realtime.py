"""Realtime events: published after the write commits, delivered to websocket clients of every
ASGI process through an outbox collection.

`publish()` registers an on-commit hook that inserts a RealtimeEvent (inside
`django_mongodb_backend.transaction.atomic` it runs after the commit and never after a rollback;
outside a transaction it runs at once). Each ASGI process runs one relay on its event loop that
tails the outbox with a change stream (polling if the server has none) and forwards each event to
the channel layer. With a shared layer (Redis) the relays claim events with a compare-and-set so
exactly one process forwards each; with the in-process layer each process forwards every event to
its own clients.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

import pymongo
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_mongodb_backend.transaction import on_commit

from core.models import RealtimeEvent

logger = logging.getLogger(__name__)

GROUP_LIVE = "live"
GROUP_TASK_LOGS = "admin.task-logs"
GROUP_DASHBOARD_STATS = "admin.dashboard-stats"
GROUP_USER_MANAGEMENT = "admin.user-management"
GROUP_MANAGER_VERIFICATION = "admin.manager-verification"
EVENT_MESSAGE_TYPE = "realtime.event"  # handled by BaseLiveConsumer.realtime_event
OUTBOX_RETENTION = dt.timedelta(days=1)


def user_group(user_id) -> str:
    return f"user.{user_id}"


def publish(group: str, event_type: str, payload: dict) -> None:
    """Send `payload` to every websocket in `group`, once the current transaction commits."""

    def write_outbox():
        RealtimeEvent.objects.create(group=group, event_type=event_type, payload=payload)

    on_commit(write_outbox)


def realtime_events_prune(*, older_than: dt.timedelta = OUTBOX_RETENTION) -> int:
    deleted, _ = RealtimeEvent.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


class OutboxRelay:
    """Tails the outbox and forwards events to the channel layer (one per process and loop)."""

    def __init__(self):
        self.client = pymongo.MongoClient(settings.DATABASES["default"]["HOST"])
        self.collection = self.client[connection.settings_dict["NAME"]][RealtimeEvent._meta.db_table]
        self.shared_layer = bool(settings.REDIS_URL)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-relay")
        self.stream = None
        self.last_polled_id = None
        self.ready = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        layer = get_channel_layer()
        try:
            await loop.run_in_executor(self.executor, self._open)
            self.ready.set()
            while True:
                documents = await loop.run_in_executor(self.executor, self._next_batch)
                for document in documents:
                    if self.shared_layer and not await loop.run_in_executor(self.executor, self._claim, document):
                        continue
                    await layer.group_send(
                        document["group"],
                        {"type": EVENT_MESSAGE_TYPE, "event_type": document["event_type"],
                         "payload": document.get("payload") or {}},
                    )
        finally:
            self.ready.set()
            self.executor.submit(self._close)
            self.executor.shutdown(wait=False)

    def _open(self) -> None:
        try:
            self.stream = self.collection.watch([{"$match": {"operationType": "insert"}}], max_await_time_ms=250)
        except pymongo.errors.PyMongoError:
            logger.warning("change streams unavailable: polling the realtime outbox")
            newest = self.collection.find_one(sort=[("_id", pymongo.DESCENDING)])
            self.last_polled_id = newest["_id"] if newest else None

    def _next_batch(self) -> list[dict]:
        if self.stream is not None:
            documents = []
            while len(documents) < 100:
                change = self.stream.try_next()
                if change is None:
                    break
                documents.append(change["fullDocument"])
            return documents
        query = {"_id": {"$gt": self.last_polled_id}} if self.last_polled_id else {}
        documents = list(self.collection.find(query).sort("_id", pymongo.ASCENDING).limit(100))
        if documents:
            self.last_polled_id = documents[-1]["_id"]
        else:
            import time

            time.sleep(0.25)
        return documents

    def _claim(self, document: dict) -> bool:
        result = self.collection.update_one(
            {"_id": document["_id"], "relayed_at": None}, {"$set": {"relayed_at": timezone.now()}}
        )
        return result.modified_count == 1

    def _close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.client.close()


_relays: dict[asyncio.AbstractEventLoop, tuple[OutboxRelay, asyncio.Task]] = {}


async def relay_ensure_running() -> None:
    """Start this process's relay on the running loop if it is not running; wait until it listens."""
    loop = asyncio.get_running_loop()
    for other_loop in [l for l in _relays if l.is_closed()]:
        del _relays[other_loop]
    entry = _relays.get(loop)
    if entry is None or entry[1].done():
        relay = OutboxRelay()
        task = loop.create_task(relay.run(), name="outbox-relay")
        _relays[loop] = entry = (relay, task)
    await entry[0].ready.wait()


async def relay_stop() -> None:
    """Stop the relay of the running loop (tests; daphne simply exits)."""
    entry = _relays.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        entry[1].cancel()
        try:
            await entry[1]
        except asyncio.CancelledError:
            pass
