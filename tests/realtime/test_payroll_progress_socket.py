"""Live progress of a payroll run over the /ws/live/ socket (through the real ASGI app): a manager
watching sees, for each crypto payslip, queued -> intent -> sent -> confirmed, only after each write
commits; a plain employee of the organization and a manager of another organization see none of it."""

import pytest
from channels.db import database_sync_to_async

from core.realtime import relay_stop
from payroll import services
from payroll.models import Payslip
from tests.payroll import conftest as payroll_fixtures
from tests.payroll.crypto_kit import approved_session, crypto_company, mine
from tests.realtime.test_websockets import connect, session_headers
from wallets.reconciler import sends_reconcile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
team = payroll_fixtures.team  # the payroll tests' company (tests/payroll/conftest.py)


@pytest.fixture
async def stop_relay():
    yield
    await relay_stop()


@pytest.fixture
def company(team, make_user, eth_node, settings):
    settings.ETH_CONFIRMATIONS = 3
    return crypto_company(team, make_user, crypto_people=2, with_manual=False)


async def _progress(communicator, wanted: int) -> list[dict]:
    events = []
    while len(events) < wanted:
        message = await communicator.receive_json_from(timeout=120)
        if message["type"] == "payroll.payout_progress":
            events.append(message["data"])
    return events


async def test_a_manager_watches_each_payslip_go_from_intent_to_confirmed(company, make_user, make_organization,
                                                                           stop_relay):
    manager = company.team.manager
    watching, connected = await connect("/ws/live/", await session_headers(manager))
    assert connected and (await watching.receive_json_from(timeout=60))["type"] == "connected"
    employee, connected = await connect("/ws/live/", await session_headers(company.team.carol))
    assert connected and (await employee.receive_json_from(timeout=60))["type"] == "connected"
    other_org = await database_sync_to_async(make_organization)("Elsewhere")
    outsider_user = await database_sync_to_async(make_user)(role="MANAGER", organization=other_org)
    outsider, connected = await connect("/ws/live/", await session_headers(outsider_user))
    assert connected and (await outsider.receive_json_from(timeout=60))["type"] == "connected"

    def process():
        session, _ = approved_session(manager)
        services.payroll_period_process(actor=manager, period=company.period, session=session,
                                        wallet_id=company.wallet.pk)

    await database_sync_to_async(process)()
    sent = await _progress(watching, 6)  # two payslips: queued, intent, sent
    slips = await database_sync_to_async(lambda: {str(p.pk): p for p in Payslip.objects.filter(period=company.period)})()
    for payslip_id in slips:
        stages = [e["stage"] for e in sent if e["payslip"] == payslip_id]
        assert stages == ["queued", "intent", "sent"]
        intent = next(e for e in sent if e["payslip"] == payslip_id and e["stage"] == "intent")
        assert intent["tx_hash"].startswith("0x") and isinstance(intent["nonce"], int)

    def confirm():
        mine(3)
        sends_reconcile()

    await database_sync_to_async(confirm)()
    confirmed = await _progress(watching, 2)
    assert {e["stage"] for e in confirmed} == {"confirmed"} and {e["payslip"] for e in confirmed} == set(slips)

    # The employee (not a books role) and another organization's manager saw no progress event.
    for communicator in (employee, outsider):
        while not await communicator.receive_nothing(timeout=1):
            message = await communicator.receive_json_from(timeout=10)
            assert message["type"] != "payroll.payout_progress"
    for communicator in (watching, employee, outsider):
        await communicator.disconnect()
