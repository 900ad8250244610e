"""The outbox relay on the real database and a real (in-process) channel layer: change stream and
polling fallback, recovery from a dead stream, exactly-once forwarding when the layer is shared,
resilience to a bad event; publish() validation and outbox pruning."""

import asyncio
import datetime as dt
from decimal import Decimal

import pymongo
import pytest
from bson import ObjectId
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from core.models import RealtimeEvent
from core.realtime import EVENT_MESSAGE_TYPE, OutboxRelay, publish, realtime_events_prune
from core.tasks import realtime_outbox_prune

pytestmark = pytest.mark.django_db(transaction=True)

GROUP = "relay-probe"


@pytest.fixture
async def listener():
    """A channel in GROUP on the process's channel layer; yields a function receiving one message."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)

    async def receive(timeout=60):
        return await asyncio.wait_for(layer.receive(channel), timeout)

    yield receive
    await layer.group_discard(GROUP, channel)


@pytest.fixture
async def start_relay():
    tasks = []

    async def start(**options):
        relay = OutboxRelay(**options)
        tasks.append(asyncio.create_task(relay.run()))
        await relay.ready.wait()
        return relay

    yield start
    for task in tasks:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


def insert_raw_event(event_type, *, group=GROUP, event_id=None):
    """Insert an outbox document the way another process would, with its own ObjectId."""
    document = {"group": group, "event_type": event_type, "payload": {"by": "raw"},
                "created_at": timezone.now(), "relayed_at": None}
    if event_id is not None:
        document["_id"] = event_id
    connection.get_collection(RealtimeEvent._meta.db_table).insert_one(document)


async def assert_nothing_more(receive):
    with pytest.raises(asyncio.TimeoutError):
        await receive(timeout=0.6)


async def test_change_stream_forwards_new_events_only(listener, start_relay):
    await database_sync_to_async(publish)(GROUP, "probe.before-start", {})
    relay = await start_relay()
    assert relay.use_change_stream and relay.stream is not None
    await database_sync_to_async(publish)(GROUP, "probe.after-start", {"n": 1})
    message = await listener()
    assert message == {"type": EVENT_MESSAGE_TYPE, "event_type": "probe.after-start", "payload": {"n": 1}}
    await assert_nothing_more(listener)  # the event written before the relay started is not replayed


async def test_polling_fallback_delivers_out_of_order_ids_once(listener, start_relay, monkeypatch):
    def no_change_streams(self, *args, **kwargs):
        # What a standalone mongod answers.
        raise pymongo.errors.OperationFailure("The $changeStream stage is only supported on replica sets", 40573)

    monkeypatch.setattr(pymongo.collection.Collection, "watch", no_change_streams)
    relay = await start_relay()
    assert not relay.use_change_stream
    await database_sync_to_async(publish)(GROUP, "probe.first", {})
    assert (await listener())["event_type"] == "probe.first"
    # Another process's ObjectId from two seconds ago lands after ours: polling by "_id > last seen"
    # alone would skip it.
    older_id = ObjectId.from_datetime(timezone.now() - dt.timedelta(seconds=2))
    await database_sync_to_async(insert_raw_event)("probe.older-id", event_id=older_id)
    assert (await listener())["event_type"] == "probe.older-id"
    await assert_nothing_more(listener)


async def test_relay_reopens_a_dead_stream_and_sends_what_was_written_meanwhile(listener, start_relay):
    relay = await start_relay()
    first_stream = relay.stream

    def kill_stream_then_write():
        # On the relay's own thread, between two reads: no stream is open when this event is written.
        first_stream.close()
        insert_raw_event("probe.during-gap")

    await asyncio.get_running_loop().run_in_executor(relay.executor, kill_stream_then_write)
    assert (await listener())["event_type"] == "probe.during-gap"
    assert relay.use_change_stream and relay.stream is not None and relay.stream is not first_stream
    await database_sync_to_async(publish)(GROUP, "probe.after-reopen", {})
    assert (await listener())["event_type"] == "probe.after-reopen"
    await assert_nothing_more(listener)


async def test_shared_layer_relays_forward_each_event_exactly_once(listener, start_relay):
    # Two processes' relays on one shared layer (here: both on this process's layer).
    await start_relay(shared_layer=True)
    await start_relay(shared_layer=True)

    def publish_five():
        for n in range(5):
            publish(GROUP, "probe.shared", {"n": n})

    await database_sync_to_async(publish_five)()
    received = sorted([(await listener())["payload"]["n"] for _ in range(5)])
    assert received == [0, 1, 2, 3, 4]
    await assert_nothing_more(listener)
    claimed = await database_sync_to_async(
        lambda: RealtimeEvent.objects.filter(event_type="probe.shared", relayed_at__isnull=False).count()
    )()
    assert claimed == 5


async def test_a_bad_event_does_not_stop_the_relay(listener, start_relay):
    await start_relay()
    await database_sync_to_async(insert_raw_event)("probe.bad-group", group="not a valid group!")
    await database_sync_to_async(publish)(GROUP, "probe.good", {})
    assert (await listener())["event_type"] == "probe.good"


def test_publish_rejects_bad_arguments_before_anything_is_written():
    with pytest.raises(ValueError):
        publish("spaces are not allowed", "probe", {})
    with pytest.raises(ValueError):
        publish("g" * 100, "probe", {})
    with pytest.raises(ValueError):
        publish(GROUP, "", {})
    with pytest.raises(TypeError):
        publish(GROUP, "probe", {"not json": object()})
    assert not RealtimeEvent.objects.exists()


def test_publish_stores_dates_decimals_and_object_ids_as_strings():
    oid = ObjectId()
    publish(GROUP, "probe.types", {"at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                                    "amount": Decimal("1.10"), "id": oid})
    assert RealtimeEvent.objects.get().payload == {"at": "2026-01-02T03:04:05Z", "amount": "1.10", "id": str(oid)}


def test_prune_deletes_events_older_than_a_day():
    publish(GROUP, "probe.old", {})
    publish(GROUP, "probe.new", {})
    RealtimeEvent.objects.filter(event_type="probe.old").update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert realtime_events_prune() == 1
    assert list(RealtimeEvent.objects.values_list("event_type", flat=True)) == ["probe.new"]
    RealtimeEvent.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert realtime_outbox_prune.call_local() == 1  # the hourly huey task
    assert not RealtimeEvent.objects.exists()


def test_batched_events_are_written_once_on_leaving_in_order():
    from django.test.utils import CaptureQueriesContext

    from core.realtime import events_batched
    from core.transactions import in_transaction

    with CaptureQueriesContext(connection) as writes:
        with events_batched():
            publish(GROUP, "probe.one", {"n": 1})
            with events_batched():  # a nested block joins the outer batch
                publish(GROUP, "probe.two", {"n": 2})
            in_transaction(lambda: publish(GROUP, "probe.three", {"n": 3}))  # held until its commit, then batched
            assert not RealtimeEvent.objects.exists()  # nothing written before leaving
    inserts = [q for q in writes.captured_queries if q["sql"].startswith("db.realtime_events.insert_many")]
    assert len(inserts) == 1
    assert list(RealtimeEvent.objects.order_by("pk").values_list("event_type", flat=True)) == [
        "probe.one", "probe.two", "probe.three"]


def test_a_batch_left_by_an_exception_still_writes_what_committed_and_never_a_rollback():
    from core.realtime import events_batched
    from core.transactions import in_transaction

    def rolled_back():
        publish(GROUP, "probe.rolled_back", {})
        raise RuntimeError("the write fails")

    with pytest.raises(KeyError):
        with events_batched():
            publish(GROUP, "probe.committed", {})
            with pytest.raises(RuntimeError):
                in_transaction(rolled_back)
            raise KeyError("the loop dies")
    assert list(RealtimeEvent.objects.values_list("event_type", flat=True)) == ["probe.committed"]
    publish(GROUP, "probe.after", {})  # outside a batch: written at once again
    assert RealtimeEvent.objects.filter(event_type="probe.after").exists()
