"""WebSockets through the real ASGI app: auth (session cookie, JWT), origin policy, ping/pong,
events delivered only after the write commits (also when another process writes them), and groups
per organization: an event reaches only those who could read the same object over HTTP."""

import asyncio
import sys

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client
from django_mongodb_backend.transaction import atomic

from config.asgi import application
from core.realtime import (
    Audience,
    StaffFeed,
    organization_group,
    publish,
    relay_stop,
    staff_feed_group,
    user_group,
)

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture
async def stop_relay():
    yield
    await relay_stop()


async def session_headers(user, origin=ORIGIN):
    def login():
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    cookie = await database_sync_to_async(login)()
    headers = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    return headers + ([origin] if origin else [])


async def connect(path, headers):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=60)
    return communicator, connected


async def expect_close(communicator, code):
    message = await communicator.receive_output(timeout=60)
    while message["type"] == "websocket.send":
        message = await communicator.receive_output(timeout=60)
    assert message == {"type": "websocket.close", "code": code}


async def receive_event(communicator, event_type, timeout=60):
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == event_type:
            return message


async def test_anonymous_is_closed_4401(stop_relay):
    communicator, connected = await connect("/ws/live/", [ORIGIN])
    assert connected
    await expect_close(communicator, 4401)


async def test_foreign_origin_is_refused(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    headers = await session_headers(user, origin=(b"origin", b"https://evil.example"))
    communicator, connected = await connect("/ws/live/", headers)
    assert not connected


async def test_cookie_without_origin_is_refused(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    communicator, connected = await connect("/ws/live/", await session_headers(user, origin=None))
    assert not connected


async def test_session_cookie_connects_and_ping_pongs(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    communicator, connected = await connect("/ws/live/", await session_headers(user))
    assert connected
    assert (await communicator.receive_json_from(timeout=60))["type"] == "connected"
    await communicator.send_json_to({"type": "ping", "data": 7})
    assert await communicator.receive_json_from(timeout=60) == {"type": "pong", "data": 7}
    await communicator.disconnect()


async def test_jwt_without_origin_connects(make_user, access_token_for, stop_relay):
    user = await database_sync_to_async(make_user)()
    token = await database_sync_to_async(access_token_for)(user)
    communicator, connected = await connect("/ws/notifications/", [(b"authorization", f"Bearer {token}".encode())])
    assert connected
    message = await communicator.receive_json_from(timeout=60)
    assert message == {"type": "connected", "data": {"groups": [f"user.{user.pk}"]}}
    await communicator.disconnect()


async def test_invalid_jwt_is_refused(stop_relay):
    communicator, connected = await connect("/ws/notifications/", [(b"authorization", b"Bearer not.a.token")])
    assert not connected


@pytest.mark.parametrize("path", ["/ws/admin/task-logs/", "/ws/admin/dashboard-stats/",
                                  "/ws/admin/user-management/", "/ws/admin/manager-verification/"])
async def test_admin_feeds_refuse_non_staff(make_user, stop_relay, path):
    user = await database_sync_to_async(make_user)(role="USER")
    communicator, connected = await connect(path, await session_headers(user))
    assert connected
    await expect_close(communicator, 4403)


async def test_admin_feed_accepts_staff_of_their_organization(make_user, organization, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    communicator, connected = await connect("/ws/admin/dashboard-stats/", await session_headers(user))
    assert connected
    assert (await communicator.receive_json_from(timeout=60))["data"]["groups"] == [
        staff_feed_group(organization.pk, StaffFeed.DASHBOARD_STATS)]
    await communicator.disconnect()


async def test_admin_feed_of_a_superuser_adds_the_platform_feed(make_user, organization, stop_relay):
    user = await database_sync_to_async(make_user)(role="ADMIN", is_superuser=True)
    communicator, _ = await connect("/ws/admin/task-logs/", await session_headers(user))
    assert (await communicator.receive_json_from(timeout=60))["data"]["groups"] == [
        staff_feed_group(organization.pk, StaffFeed.TASK_LOGS), staff_feed_group(None, StaffFeed.TASK_LOGS)]
    await communicator.disconnect()


async def test_an_accountant_is_refused_the_admin_feeds(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="USER", is_accountant=True)
    communicator, connected = await connect("/ws/admin/task-logs/", await session_headers(user))
    assert connected
    await expect_close(communicator, 4403)


@pytest.mark.parametrize("role, accountant, audiences", [
    ("USER", False, [Audience.MEMBERS]),
    ("USER", True, [Audience.MEMBERS, Audience.BOOKS]),
    ("MANAGER", False, [Audience.MEMBERS, Audience.BOOKS, Audience.STAFF]),
])
async def test_live_joins_the_user_and_the_audiences_of_their_organization(
        make_user, organization, stop_relay, role, accountant, audiences):
    user = await database_sync_to_async(make_user)(role=role, is_accountant=accountant)
    communicator, _ = await connect("/ws/live/", await session_headers(user))
    groups = (await receive_event(communicator, "connected"))["data"]["groups"]
    assert groups == [user_group(user.pk), *[organization_group(organization.pk, a) for a in audiences]]
    await communicator.disconnect()


async def test_event_arrives_only_after_commit(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    group = user_group(user.pk)
    communicator, _ = await connect("/ws/live/", await session_headers(user))
    await receive_event(communicator, "connected")
    in_transaction = asyncio.Event()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def write_in_transaction():
        with atomic():
            publish(group, "probe.committed", {"n": 1})
            loop.call_soon_threadsafe(in_transaction.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=60)

    writer = asyncio.ensure_future(database_sync_to_async(write_in_transaction)())
    await in_transaction.wait()
    assert await communicator.receive_nothing(timeout=0.5)  # published but not committed yet
    release.set()
    await writer
    assert (await receive_event(communicator, "probe.committed"))["data"] == {"n": 1}
    await communicator.disconnect()


async def test_event_never_arrives_after_rollback(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    group = user_group(user.pk)
    communicator, _ = await connect("/ws/live/", await session_headers(user))
    await receive_event(communicator, "connected")

    def write_and_fail():
        try:
            with atomic():
                publish(group, "probe.rolled-back", {})
                raise RuntimeError("business rule failed")
        except RuntimeError:
            pass
        publish(group, "probe.after", {})  # outside a transaction: sent at once

    await database_sync_to_async(write_and_fail)()
    message = await communicator.receive_json_from(timeout=60)
    assert message["type"] == "probe.after"  # the rolled-back event, published first, never came
    await communicator.disconnect()


async def test_event_written_by_another_process_reaches_the_client(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    communicator, _ = await connect("/ws/live/", await session_headers(user))
    await receive_event(communicator, "connected")
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        f"from core.realtime import publish; publish('{user_group(user.pk)}', 'probe.other-process',"
        " {'pid': os.getpid()})"
    )
    env_overrides = {
        "MONGODB_URI": settings.DATABASES["default"]["HOST"],
        "MONGODB_NAME": connection.settings_dict["NAME"],
        "LOG_TO_FILES": "false",
    }
    import os

    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env={**os.environ, **env_overrides},
                                                   cwd=str(settings.BASE_DIR))
    assert await process.wait() == 0
    message = await receive_event(communicator, "probe.other-process", timeout=60)
    assert message["data"]["pid"] == process.pid
    await communicator.disconnect()


async def test_jwt_with_a_foreign_origin_is_refused(make_user, access_token_for, stop_relay):
    user = await database_sync_to_async(make_user)()
    token = await database_sync_to_async(access_token_for)(user)
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"origin", b"https://evil.example")]
    communicator, connected = await connect("/ws/notifications/", headers)
    assert not connected


async def test_a_login_ended_by_a_newer_login_is_closed_4401(make_user, stop_relay):
    await database_sync_to_async(make_user)(role="MANAGER", username="wendy")

    def browser_login():
        client = Client()
        response = client.post("/app/login/", {"username": "wendy", "password": "Passw0rd!long"})
        assert response.status_code == 302
        return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
                 .encode()), ORIGIN]

    first = await database_sync_to_async(browser_login)()
    communicator, _ = await connect("/ws/live/", first)
    assert (await communicator.receive_json_from(timeout=60))["type"] == "connected"
    await communicator.disconnect()

    second = await database_sync_to_async(browser_login)()  # single session: this ends the first login
    communicator, connected = await connect("/ws/live/", first)
    assert connected
    await expect_close(communicator, 4401)
    communicator, _ = await connect("/ws/live/", second)
    assert (await communicator.receive_json_from(timeout=60))["type"] == "connected"
    await communicator.disconnect()


async def test_bad_frames_get_an_error_and_keep_the_socket_open(make_user, stop_relay):
    user = await database_sync_to_async(make_user)(role="MANAGER")
    communicator, _ = await connect("/ws/live/", await session_headers(user))
    await receive_event(communicator, "connected")
    unknown = {"type": "error", "data": {"code": "unknown_message"}}
    await communicator.send_to(text_data="{not json")
    assert await communicator.receive_json_from(timeout=60) == unknown
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await communicator.receive_json_from(timeout=60) == unknown
    await communicator.send_json_to({"type": "subscribe", "group": staff_feed_group(None, StaffFeed.TASK_LOGS)})
    assert await communicator.receive_json_from(timeout=60) == unknown
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=60) == {"type": "pong", "data": None}
    await communicator.disconnect()


async def test_task_logs_feed_streams_task_runs_and_the_live_area_gets_no_log_text(make_user, stop_relay):
    from core import services

    user = await database_sync_to_async(make_user)(role="MANAGER")
    organization_id = user.organization_id
    headers = await session_headers(user)
    task_logs, _ = await connect("/ws/admin/task-logs/", headers)
    live, _ = await connect("/ws/live/", headers)
    await receive_event(task_logs, "connected")
    await receive_event(live, "connected")

    def run_a_task():
        run = services.task_run_create(name="probe_feed", organization_id=organization_id)
        services.task_run_start(task_run_id=run.pk)
        services.task_run_log(task_run_id=run.pk, message="secret detail 42")
        return str(run.pk)

    run_id = await database_sync_to_async(run_a_task)()
    staff_events = [await receive_event(task_logs, "task_run.updated") for _ in range(3)]
    assert [e["data"].get("status") for e in staff_events[:2]] == ["QUEUED", "RUNNING"]
    assert staff_events[0]["data"]["name"] == "probe_feed" and staff_events[0]["data"]["id"] == run_id
    assert staff_events[2]["data"]["log_line"] == "secret detail 42"
    live_events = [await receive_event(live, "task_run.updated") for _ in range(3)]
    assert all(e["data"]["id"] == run_id for e in live_events)
    assert not any("secret detail 42" in str(e) for e in live_events)
    await task_logs.disconnect()
    await live.disconnect()
