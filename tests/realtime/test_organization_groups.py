"""Realtime groups per organization, through the real ASGI app and the real outbox relay: an event
reaches only those who could read the same object over HTTP (issue 9: `/ws/live/` delivered
`ledger.entry_posted` and every task run to a freshly registered user).

Each test ends with a probe published to the listener's own group after everything else: the relay
forwards the outbox in order, so if the probe is the first event a socket receives, none of the
earlier events reached it."""

import pytest
from channels.db import database_sync_to_async

from core import services
from core.realtime import Audience, StaffFeed, organization_group, publish, staff_feed_group, user_group
from tests.realtime.test_websockets import connect, expect_close, receive_event, session_headers, stop_relay  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

ENTRY_POSTED = {"id": "6553f1c2a4b5c6d7e8f90123", "description": "Payroll June", "total": "125000.00"}


@pytest.fixture
def two_organizations(make_organization, organization, make_user):
    """Organization A (the fixture's "Acme": a manager, an accountant, a plain user) and B (a
    stranger who registered with company "Acme Ltd", plus a manager and a user of B)."""
    from accounts.services import user_create

    def build():
        a = {"org": organization, "manager": make_user(role="MANAGER"),
             "accountant": make_user(role="USER", is_accountant=True), "user": make_user(role="USER")}
        stranger = user_create(username="stranger", email="stranger@example.test", password="Gr33n!Ledger#42",
                               first_name="Sam", last_name="Stranger", company="Acme Ltd")
        b_org = stranger.organization
        b = {"org": b_org, "registered": stranger, "manager": make_user(role="MANAGER", organization=b_org),
             "user": make_user(role="USER", organization=b_org)}
        return a, b

    return build


async def listen(user, path="/ws/live/"):
    communicator, connected = await connect(path, await session_headers(user))
    assert connected
    await receive_event(communicator, "connected")
    return communicator


def publish_everything_of(a):
    """What organization A's work publishes: a posted entry to its books audience, a member event,
    a task run of A (started by its manager) and the staff feeds of A."""
    publish(organization_group(a["org"].pk, Audience.BOOKS), "ledger.entry_posted", ENTRY_POSTED)
    publish(organization_group(a["org"].pk, Audience.MEMBERS), "probe.members-of-a", {})
    run = services.task_run_create(name="a_books_sync", triggered_by=a["manager"])
    services.task_run_start(task_run_id=run.pk)
    services.task_run_log(task_run_id=run.pk, message="A's secret log line")
    for feed in (StaffFeed.USER_MANAGEMENT, StaffFeed.MANAGER_VERIFICATION, StaffFeed.DASHBOARD_STATS):
        publish(staff_feed_group(a["org"].pk, feed), "probe.a-feed", {"feed": feed})
    return run


async def assert_only_the_probe_arrives(communicator, user, expected=()):
    """Publish a probe to the user's own group; the socket gets exactly `expected` event types, then
    the probe."""
    await database_sync_to_async(publish)(user_group(user.pk), "probe.last", {})
    received = []
    while not received or received[-1]["type"] != "probe.last":
        received.append(await communicator.receive_json_from(timeout=60))
    assert [m["type"] for m in received] == [*expected, "probe.last"], received
    await communicator.disconnect()


@pytest.mark.parametrize("who", ["registered", "manager", "user"])
async def test_nothing_of_organization_a_reaches_the_live_socket_of_b(two_organizations, stop_relay, who):
    a, b = await database_sync_to_async(two_organizations)()
    listener = b[who]
    communicator = await listen(listener)
    await database_sync_to_async(publish_everything_of)(a)
    await assert_only_the_probe_arrives(communicator, listener)


async def test_a_user_of_a_does_not_get_the_books_events_an_accountant_of_a_does(two_organizations, stop_relay):
    a, _ = await database_sync_to_async(two_organizations)()
    user_socket = await listen(a["user"])
    accountant_socket = await listen(a["accountant"])
    await database_sync_to_async(publish)(organization_group(a["org"].pk, Audience.BOOKS), "ledger.entry_posted",
                                          ENTRY_POSTED)
    assert (await receive_event(accountant_socket, "ledger.entry_posted"))["data"] == ENTRY_POSTED
    await accountant_socket.disconnect()
    await assert_only_the_probe_arrives(user_socket, a["user"])


async def test_task_runs_of_a_reach_its_staff_not_its_plain_users(two_organizations, stop_relay):
    a, _ = await database_sync_to_async(two_organizations)()
    manager_socket = await listen(a["manager"])
    user_socket = await listen(a["user"])
    accountant_socket = await listen(a["accountant"])
    run = await database_sync_to_async(publish_everything_of)(a)
    event = await receive_event(manager_socket, "task_run.updated")
    assert event["data"]["id"] == str(run.pk)
    await manager_socket.disconnect()
    await assert_only_the_probe_arrives(user_socket, a["user"], expected=["probe.members-of-a"])
    # The accountant hears the books, and no task run (task runs are for managers).
    await assert_only_the_probe_arrives(accountant_socket, a["accountant"],
                                        expected=["ledger.entry_posted", "probe.members-of-a"])


@pytest.mark.parametrize("path, feed", [
    ("/ws/admin/task-logs/", StaffFeed.TASK_LOGS),
    ("/ws/admin/user-management/", StaffFeed.USER_MANAGEMENT),
    ("/ws/admin/manager-verification/", StaffFeed.MANAGER_VERIFICATION),
    ("/ws/admin/dashboard-stats/", StaffFeed.DASHBOARD_STATS),
])
async def test_the_admin_feeds_of_a_never_reach_the_manager_of_b(two_organizations, stop_relay, path, feed):
    a, b = await database_sync_to_async(two_organizations)()
    a_socket = await listen(a["manager"], path)
    b_socket, _ = await connect(path, await session_headers(b["manager"]))
    connected = await receive_event(b_socket, "connected")
    assert connected["data"]["groups"] == [staff_feed_group(b["org"].pk, feed)]
    # Asking to join A's feed is not a thing a client can do.
    await b_socket.send_json_to({"type": "subscribe", "group": staff_feed_group(a["org"].pk, feed)})
    assert (await b_socket.receive_json_from(timeout=60))["data"] == {"code": "unknown_message"}
    await database_sync_to_async(publish_everything_of)(a)
    arrived = await receive_event(a_socket, "task_run.updated" if feed == StaffFeed.TASK_LOGS else "probe.a-feed")
    assert arrived
    await a_socket.disconnect()
    await database_sync_to_async(publish)(staff_feed_group(b["org"].pk, feed), "probe.last", {})
    message = await b_socket.receive_json_from(timeout=60)
    # The dashboard-stats feed also sends the connected manager's own figures (computed for B's user,
    # never from another organization's data): those may come first; nothing of A may.
    while message["type"] == "dashboard.stats" and feed == StaffFeed.DASHBOARD_STATS:
        message = await b_socket.receive_json_from(timeout=60)
    assert message["type"] == "probe.last", message  # nothing of A came before it
    await b_socket.disconnect()


@pytest.mark.parametrize("who", ["user", "accountant"])
async def test_the_admin_feeds_refuse_non_managers_of_a(two_organizations, stop_relay, who):
    a, _ = await database_sync_to_async(two_organizations)()
    communicator, connected = await connect("/ws/admin/task-logs/", await session_headers(a[who]))
    assert connected
    await expect_close(communicator, 4403)


async def test_the_task_logs_of_b_show_b_runs_with_their_log_lines(two_organizations, stop_relay):
    a, b = await database_sync_to_async(two_organizations)()
    b_socket = await listen(b["manager"], "/ws/admin/task-logs/")

    def run_in_b():
        run = services.task_run_create(name="b_sync", triggered_by=b["manager"])
        services.task_run_log(task_run_id=run.pk, message="B's own line")
        return run

    await database_sync_to_async(publish_everything_of)(a)
    run = await database_sync_to_async(run_in_b)()
    first = await receive_event(b_socket, "task_run.updated")
    assert first["data"]["id"] == str(run.pk)  # A's run, published before, never came
    second = await receive_event(b_socket, "task_run.updated")
    assert second["data"]["log_line"] == "B's own line"
    await b_socket.disconnect()


async def test_installation_wide_runs_reach_only_superusers(make_user, stop_relay):
    manager = await database_sync_to_async(make_user)(role="MANAGER")
    superuser = await database_sync_to_async(make_user)(role="ADMIN", is_superuser=True)
    manager_logs = await listen(manager, "/ws/admin/task-logs/")
    superuser_logs = await listen(superuser, "/ws/admin/task-logs/")
    manager_live = await listen(manager)

    def monitor_run():
        run = services.task_run_create(name="chain_monitor")  # no user, no organization
        services.task_run_log(task_run_id=run.pk, message="block 42")
        return run

    run = await database_sync_to_async(monitor_run)()
    event = await receive_event(superuser_logs, "task_run.updated")
    assert event["data"]["id"] == str(run.pk)
    await superuser_logs.disconnect()
    await database_sync_to_async(publish)(staff_feed_group(manager.organization_id, StaffFeed.TASK_LOGS),
                                          "probe.last", {})
    assert (await manager_logs.receive_json_from(timeout=60))["type"] == "probe.last"
    await manager_logs.disconnect()
    await assert_only_the_probe_arrives(manager_live, manager)
