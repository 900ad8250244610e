"""The /ws/admin/* feeds through the real ASGI app: dashboard-stats sends the figures on connect, after a
change of the books (debounced) and on its interval; user-management and manager-verification carry the
organization's people events; task-logs the automation switch. Each only to its own organization."""

import datetime as dt
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache

from core.consumers import stats_interval_seconds
from core.realtime import relay_stop
from tests.realtime.test_websockets import connect, receive_event, session_headers

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture
async def stop_relay():
    yield
    await relay_stop()


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_interval_stays_within_10_to_30_seconds(settings):
    for asked, used in [(5, 10), (10, 10), (20, 20), (30, 30), (300, 30)]:
        settings.DASHBOARD_STATS_INTERVAL_SECONDS = asked
        assert stats_interval_seconds() == used


def make_books(make_user, organization):
    from wallets.models import Cryptocurrency, WalletType
    from wallets.prices import price_record
    from wallets.services import wallet_create

    manager = make_user(role="MANAGER")
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    price_record(organization=organization, symbol="ETH", price=D("2000"))
    wallet = wallet_create(user=manager, name="ops", wallet_type=WalletType.PRIVATE_KEY)
    return manager, wallet


def buy(manager, wallet, amount="1"):
    from wallets.services import transaction_create

    transaction_create(actor=manager, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D(amount),
                       price_at_transaction=D("1000"), transaction_date=dt.datetime(2025, 1, 2, tzinfo=dt.UTC))


async def test_dashboard_stats_on_connect_and_after_a_change(make_user, organization, settings, stop_relay):
    settings.DASHBOARD_STATS_DEBOUNCE_SECONDS = 0.2
    manager, wallet = await database_sync_to_async(make_books)(make_user, organization)
    await database_sync_to_async(buy)(manager, wallet)
    feed, connected = await connect("/ws/admin/dashboard-stats/", await session_headers(manager))
    assert connected
    await receive_event(feed, "connected")
    first = await receive_event(feed, "dashboard.stats")
    assert D(first["data"]["portfolio"]["total_value"]) == D("2000") and first["data"]["fiat"] == "USD"
    await database_sync_to_async(buy)(manager, wallet, "2")  # transaction.created reaches the books audience
    second = await receive_event(feed, "dashboard.stats")
    assert D(second["data"]["portfolio"]["total_value"]) == D("6000")  # fresh, not the cached figures
    await feed.send_json_to({"type": "ping", "data": 1})
    assert (await receive_event(feed, "pong"))["data"] == 1
    await feed.disconnect()


async def test_dashboard_stats_arrive_on_their_interval_without_a_change(make_user, organization, settings, stop_relay):
    settings.DASHBOARD_STATS_INTERVAL_SECONDS = 10
    manager, _ = await database_sync_to_async(make_books)(make_user, organization)
    feed, _ = await connect("/ws/admin/dashboard-stats/", await session_headers(manager))
    await receive_event(feed, "dashboard.stats")
    again = await receive_event(feed, "dashboard.stats", timeout=90)
    assert again["data"]["portfolio"]["total_value"] == "0"
    await feed.disconnect()


async def test_another_organizations_staff_get_their_own_figures_only(make_user, make_organization, organization,
                                                                    settings, stop_relay):
    settings.DASHBOARD_STATS_DEBOUNCE_SECONDS = 0.2
    manager, wallet = await database_sync_to_async(make_books)(make_user, organization)
    other = await database_sync_to_async(make_organization)("Globex")
    outsider = await database_sync_to_async(make_user)(role="ADMIN", organization=other)
    feed, _ = await connect("/ws/admin/dashboard-stats/", await session_headers(outsider))
    first = await receive_event(feed, "dashboard.stats")
    await database_sync_to_async(buy)(manager, wallet)
    assert D(first["data"]["portfolio"]["total_value"]) == 0
    assert await feed.receive_nothing(timeout=3)  # nothing of Acme's change reaches Globex's feed
    await feed.disconnect()


async def test_people_feeds_carry_verifications_of_their_organization_only(make_user, make_organization, stop_relay):
    from accounts.employees import employee_verify

    manager = await database_sync_to_async(make_user)(role="MANAGER")
    employee = await database_sync_to_async(make_user)(manager=manager)
    outsider = await database_sync_to_async(make_user)(role="ADMIN",
                                                       organization=await database_sync_to_async(make_organization)("G"))
    people, _ = await connect("/ws/admin/user-management/", await session_headers(manager))
    verification, _ = await connect("/ws/admin/manager-verification/", await session_headers(manager))
    foreign, _ = await connect("/ws/admin/manager-verification/", await session_headers(outsider))
    for feed in (people, verification, foreign):
        await receive_event(feed, "connected")
    await database_sync_to_async(employee_verify)(actor=manager, employee=employee)
    for feed in (people, verification):
        event = await receive_event(feed, "employee.verified")
        assert event["data"]["id"] == str(employee.pk) or str(employee.pk) in str(event["data"])
    assert await foreign.receive_nothing(timeout=3)
    for feed in (people, verification, foreign):
        await feed.disconnect()


async def test_task_logs_feed_of_superusers_carries_the_automation_switch(make_user, stop_relay):
    from core.scheduling import automation_change

    superuser = await database_sync_to_async(make_user)(role="ADMIN", is_superuser=True)
    manager = await database_sync_to_async(make_user)(role="MANAGER")
    platform, _ = await connect("/ws/admin/task-logs/", await session_headers(superuser))
    staff, _ = await connect("/ws/admin/task-logs/", await session_headers(manager))
    await receive_event(platform, "connected")
    await receive_event(staff, "connected")
    await database_sync_to_async(automation_change)(actor=superuser, enabled=False, job="prices_refresh")
    event = await receive_event(platform, "automation.changed")
    assert event["data"]["job"] == "prices_refresh" and event["data"]["enabled"] is False
    assert await staff.receive_nothing(timeout=3)  # installation-wide: superusers only
    await platform.disconnect()
    await staff.disconnect()
