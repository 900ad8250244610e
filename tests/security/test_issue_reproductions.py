"""The leaks the organizations issue reported, each reproduced as a test that now fails as it should."""

import json

import pytest
from django.test import Client

from accounts.services import user_create
from core.permissions import Role

pytestmark = pytest.mark.django_db

PASSWORD = "Gr33n!Ledger#42"


def api(client, token, method, path, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return client.generic(method, path, **kwargs)


def test_a_stranger_registering_as_the_company_keeps_separate_books(organization, make_user, access_token_for,
                                                                     eth_node):
    """Reported: a stranger who registers with company "Acme Ltd" and records a BUY and a SELL moved the
    company's accounts, appeared in its statements, and their wallets showed in the manager's admin."""
    from decimal import Decimal

    from wallets.models import Cryptocurrency

    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "current_price": Decimal("2500")})
    client = Client()
    manager = make_user(Role.MANAGER, username="acme_manager")
    manager_token = access_token_for(manager)
    before = api(client, manager_token, "POST", "/api/reports/balance-sheet/", {"as_of": "2026-12-31"}).json()

    stranger = user_create(username="stranger", email="stranger@example.test", password=PASSWORD,
                           first_name="Sam", last_name="Stranger", company=organization.name, email_verified=True)
    assert stranger.organization_id != organization.pk  # same company name, its own organization
    assert stranger.organization.name == organization.name
    token = access_token_for(stranger, password=PASSWORD)
    wallet = api(client, token, "POST", "/api/wallets/", {"name": "stranger's"}).json()
    for kind, amount in (("BUY", "2"), ("SELL", "1")):
        response = api(client, token, "POST", "/api/transactions/", {
            "wallet_id": wallet["id"], "asset": "ETH", "transaction_type": kind, "amount": amount,
            "transaction_date": "2026-03-01T10:00:00Z", "price_at_transaction": "2500"})
        assert response.status_code == 201, response.content

    after = api(client, manager_token, "POST", "/api/reports/balance-sheet/", {"as_of": "2026-12-31"}).json()
    strip = ("id", "created_at", "generated_at", "excel_url", "pdf_url")
    assert {k: v for k, v in after.items() if k not in strip} == {k: v for k, v in before.items() if k not in strip}
    assert wallet["id"] not in api(client, manager_token, "GET", "/api/wallets/").content.decode()
    assert "stranger" not in api(client, manager_token, "GET", "/api/transactions/").content.decode()
    admin_client = Client()
    admin_client.force_login(manager)
    page = admin_client.get("/admin/wallets/wallet/")
    assert page.status_code == 200 and wallet["address"] not in page.content.decode()


def test_a_plain_employee_gets_403_on_the_company_books(make_user, access_token_for):
    """Reported: `GET /api/accounts/` gave a plain employee the company's balances."""
    employee = make_user(Role.USER)
    response = api(Client(), access_token_for(employee), "GET", "/api/accounts/")
    assert response.status_code == 403
    assert response.json()["error"]["code"]


@pytest.mark.django_db(transaction=True)
async def test_a_socket_closes_when_its_user_leaves_the_organization(make_organization, make_user):
    """A member's open socket joined the groups of their organization: when they are moved out (or their
    role changes) it is closed (4409) so it cannot keep receiving the old organization's events."""
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from accounts.organizations import organization_leave
    from config.asgi import application
    from core.realtime import relay_stop

    member = await database_sync_to_async(make_user)(Role.MANAGER)
    await database_sync_to_async(make_user)(Role.ADMIN)  # the organization keeps an admin

    def cookie():
        client = Client()
        client.force_login(member)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    headers = [(b"origin", b"http://127.0.0.1:8000"),
               (b"cookie", f"{settings.SESSION_COOKIE_NAME}={await database_sync_to_async(cookie)()}".encode())]
    sockets = []
    try:
        for route in ("/ws/live/", "/ws/admin/task-logs/"):
            communicator = WebsocketCommunicator(application, route, headers=headers)
            assert (await communicator.connect(timeout=60))[0]
            assert (await communicator.receive_json_from(timeout=60))["type"] == "connected"
            sockets.append(communicator)
        await database_sync_to_async(organization_leave)(user=member, ip=None)
        for communicator in sockets:
            message = await communicator.receive_output(timeout=60)
            while message["type"] == "websocket.send":
                message = await communicator.receive_output(timeout=60)
            assert message == {"type": "websocket.close", "code": 4409}
    finally:
        for communicator in sockets:
            await communicator.disconnect()
        await relay_stop()
