"""Realtime events: published after the write commits, delivered to websocket clients of every
ASGI process through an outbox collection.

`publish()` registers an after-commit hook (`core.transactions.after_commit`) that inserts a RealtimeEvent (inside
`django_mongodb_backend.transaction.atomic` it runs after the commit and never after a rollback;
outside a transaction it runs at once). Each ASGI process runs one relay on its event loop that
tails the outbox with a change stream (polling if the server has none) and forwards each event to
the channel layer. With a shared layer (Redis) the relays claim events with a compare-and-set so
exactly one process forwards each; with the in-process layer each process forwards every event to
its own clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import json
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import pymongo
from bson import ObjectId
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from core.models import RealtimeEvent
from core.transactions import after_commit
from core.permissions import Audience  # noqa: F401  (the groups' audiences, decided there)

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "realtime.event"  # handled by BaseLiveConsumer.realtime_event
OUTBOX_RETENTION = dt.timedelta(days=1)
MAX_EVENT_TYPE_LENGTH = 100


# --- groups ----------------------------------------------------------------------------------------
# An event reaches only those who could read the same object over HTTP: it is published to one
# user, or to one audience of one organization. Which audiences and feeds an actor joins is
# `core.permissions.live_audiences` / `can_view_staff_feeds`; there is no installation-wide group
# except the platform feed of superusers (work that belongs to no organization, e.g. the monitor).

class StaffFeed:
    """The /ws/admin/<feed>/ feeds (managers and admins of the organization)."""
    TASK_LOGS = "task-logs"
    DASHBOARD_STATS = "dashboard-stats"
    USER_MANAGEMENT = "user-management"
    MANAGER_VERIFICATION = "manager-verification"


PLATFORM_GROUP_PREFIX = "platform"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def user_control_group(user_id) -> str:
    """Every socket of a user joins it, whatever the route: `access.changed` there closes them all."""
    return f"user.{user_id}.control"


# Sent when what a user may see changed (moved to another organization, role or accountant flag
# changed, deactivated): their open sockets joined groups they may no longer be in, so every one of
# them closes (code 4409) and the client reconnects into the groups it may join now.
EVENT_ACCESS_CHANGED = "access.changed"


def access_changed_publish(user_id, *, reason: str) -> None:
    publish(user_control_group(user_id), EVENT_ACCESS_CHANGED, {"reason": reason})


def organization_group(organization_id, audience: str) -> str:
    return f"org.{organization_id}.{audience}"


def staff_feed_group(organization_id, feed: str) -> str:
    """A staff feed of one organization; organization None: the platform's (superusers only)."""
    if organization_id is None:
        return f"{PLATFORM_GROUP_PREFIX}.admin.{feed}"
    return f"org.{organization_id}.admin.{feed}"


def publish(group: str, event_type: str, payload: dict) -> None:
    """Send `payload` to every websocket in `group`, once the current transaction commits.

    Bad arguments raise here, before the commit. The outbox insert itself is best effort: if it
    fails after the business write committed, the event is logged and dropped rather than turning a
    committed write into an error for the caller.
    """
    if not (
        isinstance(group, str)
        and len(group) < BaseChannelLayer.MAX_NAME_LENGTH
        and BaseChannelLayer.group_name_regex.match(group)
    ):
        raise ValueError(f"invalid group name {group!r}: ASCII letters, digits, '-', '_', '.'; < 100 chars")
    if not event_type or len(event_type) > MAX_EVENT_TYPE_LENGTH:
        raise ValueError(f"an event type has 1-{MAX_EVENT_TYPE_LENGTH} characters")
    # Dates, Decimals and ObjectIds become strings now; anything else unserialisable raises now.
    document = json.loads(json.dumps(payload, cls=_PayloadEncoder))

    def write_outbox():
        event = RealtimeEvent(group=group, event_type=event_type, payload=document)
        batch = _outbox_batch.get()
        if batch is not None:
            batch.append(event)
        else:
            event.save(force_insert=True)

    after_commit(write_outbox, robust=True)


_outbox_batch: contextvars.ContextVar[list | None] = contextvars.ContextVar("realtime_outbox_batch", default=None)


@contextlib.contextmanager
def events_batched():
    """The outbox writes of every event published inside (once its transaction commits) held, then
    written in one insert on leaving, in publication order: for loops that publish per row (the wallet
    monitor's chunks). Leaving by an exception still writes what was published: those events belong to
    writes that committed. A nested block joins the outer batch."""
    if _outbox_batch.get() is not None:
        yield
        return
    batch: list = []
    token = _outbox_batch.set(batch)
    try:
        yield
    finally:
        _outbox_batch.reset(token)
        if batch:
            try:
                RealtimeEvent.objects.bulk_create(batch)
            except Exception:  # best effort, as one event's write (publish)
                logger.exception("realtime: %d batched outbox events not written", len(batch))


class _PayloadEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, ObjectId):
            return str(o)
        return super().default(o)


def realtime_events_prune(*, older_than: dt.timedelta = OUTBOX_RETENTION) -> int:
    deleted, _ = RealtimeEvent.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


class OutboxRelay:
    """Tails the outbox and forwards events to the channel layer (one per process and loop).

    Change stream first. If the server has none, or the stream dies (server restart, invalidation),
    the relay polls by _id; after reopening a stream it also reads what was written meanwhile.
    ObjectIds come from each writer's clock and are only ordered per second and per process, so
    every read looks back `LOOKBACK` before the newest id seen and skips ids already forwarded.
    """

    LOOKBACK = dt.timedelta(seconds=5)
    POLL_INTERVAL_SECONDS = 0.25
    REMEMBERED_IDS = 10_000
    STREAM_PIPELINE = [{"$match": {"operationType": "insert"}}]

    def __init__(self, *, shared_layer: bool | None = None):
        self.shared_layer = bool(settings.REDIS_URL) if shared_layer is None else shared_layer
        # One thread: the driver calls block, and the collection and stream stay on that thread.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-relay")
        self.collection = None
        self.stream = None
        self.use_change_stream = True
        self.catch_up_pending = False
        self.newest_id: ObjectId | None = None
        self.forwarded: OrderedDict[ObjectId, None] = OrderedDict()
        self.ready = asyncio.Event()

    async def run(self) -> None:
        layer = get_channel_layer()
        failures = 0
        try:
            await self._in_thread(self._open)
            self.ready.set()
            while True:
                try:
                    documents = await self._in_thread(self._next_batch)
                except pymongo.errors.PyMongoError:
                    failures += 1
                    logger.warning("realtime outbox read failed (%s in a row); reopening", failures, exc_info=True)
                    await asyncio.sleep(min(0.1 * 2**failures, 5.0))
                    await self._in_thread(self._reopen)
                    continue
                failures = 0
                for document in documents:
                    await self._forward(layer, document)
        finally:
            self.ready.set()
            self.executor.submit(self._close_stream)
            self.executor.shutdown(wait=False)

    async def _in_thread(self, fn):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    async def _forward(self, layer, document: dict) -> None:
        if self.shared_layer and not await self._in_thread(lambda: self._claim(document)):
            return
        try:
            await layer.group_send(
                document["group"],
                {"type": EVENT_MESSAGE_TYPE, "event_type": document["event_type"],
                 "payload": document.get("payload") or {}},
            )
        except Exception:
            # One bad event must not stop the relay for every client of this process.
            logger.exception("could not forward realtime event %s", document.get("_id"))

    # --- driver calls, on the relay thread ---------------------------------------------------------
    def _open(self) -> None:
        self.collection = connections[DEFAULT_DB_ALIAS].database[RealtimeEvent._meta.db_table]
        newest = self.collection.find_one({}, {"_id": 1}, sort=[("_id", pymongo.DESCENDING)])
        self.newest_id = newest["_id"] if newest else ObjectId()
        self._remember_existing()  # events written before the relay started are not sent
        try:
            self.stream = self._watch()
        except pymongo.errors.PyMongoError as exc:
            logger.warning("change streams unavailable (%s): polling the realtime outbox", exc)
            self.use_change_stream = False

    def _reopen(self) -> None:
        self._close_stream()
        if self.use_change_stream:
            try:
                self.stream = self._watch()
                self.catch_up_pending = True
            except pymongo.errors.PyMongoError as exc:
                logger.warning("cannot reopen the change stream (%s): polling the realtime outbox", exc)
                self.use_change_stream = False

    def _watch(self):
        return self.collection.watch(self.STREAM_PIPELINE, max_await_time_ms=int(self.POLL_INTERVAL_SECONDS * 1000))

    def _next_batch(self) -> list[dict]:
        if not self.use_change_stream:
            documents = self._unseen_since_lookback()
            if not documents:
                time.sleep(self.POLL_INTERVAL_SECONDS)
            return documents
        if self.catch_up_pending:
            # Reopened after a failure: what was written while no stream was open comes first.
            self.catch_up_pending = False
            return self._unseen_since_lookback()
        documents = []
        while len(documents) < 100:
            change = self.stream.try_next()  # waits up to max_await_time_ms for one getMore
            if change is None:
                break
            document = change["fullDocument"]
            if self._mark_forwarded(document["_id"]):
                documents.append(document)
        if not documents and not self.stream.alive:
            # try_next() returns None on a dead stream (closed, invalidated): do not spin on it.
            self.stream = None
            raise pymongo.errors.InvalidOperation("the realtime outbox change stream closed")
        return documents

    def _unseen_since_lookback(self) -> list[dict]:
        floor = ObjectId.from_datetime(self.newest_id.generation_time - self.LOOKBACK)
        cursor = self.collection.find({"_id": {"$gt": floor}}).sort("_id", pymongo.ASCENDING)
        return [document for document in cursor if self._mark_forwarded(document["_id"])]

    def _remember_existing(self) -> None:
        floor = ObjectId.from_datetime(self.newest_id.generation_time - self.LOOKBACK)
        for document in self.collection.find({"_id": {"$gt": floor}}, {"_id": 1}):
            self._mark_forwarded(document["_id"])

    def _mark_forwarded(self, event_id: ObjectId) -> bool:
        """Remember `event_id`; False if it was already seen."""
        if event_id in self.forwarded:
            return False
        self.forwarded[event_id] = None
        if len(self.forwarded) > self.REMEMBERED_IDS:
            self.forwarded.popitem(last=False)
        if event_id > self.newest_id:
            self.newest_id = event_id
        return True

    def _claim(self, document: dict) -> bool:
        result = self.collection.update_one(
            {"_id": document["_id"], "relayed_at": None}, {"$set": {"relayed_at": timezone.now()}}
        )
        return result.modified_count == 1

    def _close_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()
            except pymongo.errors.PyMongoError:
                pass


_relays: dict[asyncio.AbstractEventLoop, tuple[OutboxRelay, asyncio.Task]] = {}


async def relay_ensure_running() -> OutboxRelay:
    """Start this process's relay on the running loop if it is not running; wait until it listens."""
    loop = asyncio.get_running_loop()
    for other_loop in [other for other in _relays if other.is_closed()]:
        del _relays[other_loop]
    entry = _relays.get(loop)
    if entry is None or entry[1].done():
        relay = OutboxRelay()
        task = loop.create_task(relay.run(), name="outbox-relay")
        _relays[loop] = entry = (relay, task)
    await entry[0].ready.wait()
    return entry[0]


async def relay_stop() -> None:
    """Stop the relay of the running loop (tests; daphne simply exits)."""
    entry = _relays.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        entry[1].cancel()
        try:
            await entry[1]
        except asyncio.CancelledError:
            pass
