"""People events on the staff feeds (issue 16), through the real ASGI app and the outbox relay:
registrations, email verifications, manager verifications and role changes reach
/ws/admin/user-management/ and /ws/admin/manager-verification/ of the person's organization, once each,
after commit; invitations reach user-management; another organization's staff get none of them; no
payload carries an email address or a token."""

import json
import re

import pytest
from channels.db import database_sync_to_async

from accounts.employees import employee_update, employee_verify
from accounts.invitations import invitation_create
from accounts.models import Role, User
from accounts.registration import email_verify, user_register
from accounts.services import user_set_role
from core.errors import Forbidden
from core.realtime import relay_stop
from tests.realtime.test_websockets import connect, receive_event, session_headers

pytestmark = pytest.mark.django_db(transaction=True)
STRONG = "Gr33n!Ledger#42"
PEOPLE, VERIFICATION = "/ws/admin/user-management/", "/ws/admin/manager-verification/"
sync = database_sync_to_async


@pytest.fixture
async def stop_relay():
    yield
    await relay_stop()


async def feeds_of(user, *paths):
    sockets = []
    for path in paths:
        socket, connected = await connect(path, await session_headers(user))
        assert connected, path
        await receive_event(socket, "connected")
        sockets.append(socket)
    return sockets


async def exactly_one(socket, event_type):
    """The next `event_type` event, and no second one of that type right after it."""
    event = await receive_event(socket, event_type)
    while not await socket.receive_nothing(timeout=2):  # (a receive that times out would end the consumer)
        message = await socket.receive_json_from()
        assert message["type"] != event_type, f"{event_type} arrived twice"
    return event


def no_secrets(event, *secrets):
    text = json.dumps(event)
    assert "@" not in text, text  # no email address
    for secret in secrets:
        assert secret not in text


def token_in(message, path):
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else \
        message.get_payload()[0].get_payload()
    return re.search(re.escape(path) + r"\?token=([^\s]+)", body).group(1)


async def close(*sockets):
    for socket in sockets:
        await socket.disconnect()


async def test_an_invited_registration_reaches_both_feeds_of_the_inviting_organization_only(
        make_user, make_organization, mailbox, stop_relay):
    admin = await sync(make_user)(role=Role.ADMIN)
    outsider = await sync(make_user)(role=Role.ADMIN, organization=await sync(make_organization)("Globex"))
    people, verification = await feeds_of(admin, PEOPLE, VERIFICATION)
    foreign_people, foreign_verification = await feeds_of(outsider, PEOPLE, VERIFICATION)

    await sync(invitation_create)(actor=admin, email="zoe@example.test", role=Role.USER)
    token = token_in(mailbox[-1], "/app/invitations/accept/")
    invited = await exactly_one(people, "invitation.created")
    assert invited["data"]["role"] == Role.USER and token not in json.dumps(invited)

    zoe = await sync(user_register)(username="zoe", email="zoe@example.test", password=STRONG, first_name="Zoe",
                                    last_name="Zed", ip=None, invitation_token=token)
    for socket in (people, verification):
        event = await exactly_one(socket, "user.registered")
        assert event["data"] == {"id": str(zoe.pk), "username": "zoe", "manager": str(admin.pk), "is_active": True,
                                 "is_verified_by_manager": False, "organization": str(admin.organization_id),
                                 "role": Role.USER, "email_verified": True, "invited": True}
        no_secrets(event, token)
    assert await foreign_people.receive_nothing(timeout=3)
    assert await foreign_verification.receive_nothing(timeout=1)
    await close(people, verification, foreign_people, foreign_verification)


async def test_a_self_registration_reaches_the_platform_and_its_verification_the_new_organization(
        make_user, mailbox, stop_relay):
    superuser = await sync(make_user)(role=Role.ADMIN, is_superuser=True)
    staff = await sync(make_user)(role=Role.ADMIN)  # another organization's admin, not a superuser
    (platform,) = await feeds_of(superuser, PEOPLE)
    (other,) = await feeds_of(staff, PEOPLE)

    nina = await sync(user_register)(username="nina", email="nina@example.test", password=STRONG,
                                     first_name="Nina", last_name="North", ip=None)
    token = token_in(mailbox[-1], "/app/verify-email/")
    event = await exactly_one(platform, "user.registered")
    assert event["data"]["id"] == str(nina.pk) and event["data"]["organization"] == str(nina.organization_id)
    assert event["data"]["role"] == Role.ADMIN and event["data"]["email_verified"] is False
    no_secrets(event, token)
    assert await other.receive_nothing(timeout=2)

    own_people, own_verification = await feeds_of(nina, PEOPLE, VERIFICATION)
    await sync(email_verify)(token=token, ip=None)
    for socket in (own_people, own_verification):
        verified = await exactly_one(socket, "user.email_verified")
        assert verified["data"]["id"] == str(nina.pk) and verified["data"]["email_verified"] is True
        no_secrets(verified, token)
    assert await other.receive_nothing(timeout=1)
    await close(platform, other, own_people, own_verification)


async def test_a_manager_verification_and_rejection_each_send_one_event(make_user, make_organization, stop_relay):
    manager = await sync(make_user)(role=Role.MANAGER)
    employee = await sync(make_user)(manager=manager)
    outsider = await sync(make_user)(role=Role.MANAGER, organization=await sync(make_organization)("Globex"))
    people, verification = await feeds_of(manager, PEOPLE, VERIFICATION)
    (foreign,) = await feeds_of(outsider, VERIFICATION)
    await sync(employee_verify)(actor=manager, employee=employee)
    for socket in (people, verification):
        event = await exactly_one(socket, "employee.verified")
        assert event["data"]["id"] == str(employee.pk) and event["data"]["is_verified_by_manager"] is True
    await sync(employee_verify)(actor=manager, employee=employee, approve=False)
    for socket in (people, verification):
        event = await exactly_one(socket, "employee.rejected")
        assert event["data"]["is_verified_by_manager"] is False
    assert await foreign.receive_nothing(timeout=2)
    await close(people, verification, foreign)


async def test_role_changes_and_the_accountant_flag_reach_both_feeds(make_user, make_organization, stop_relay):
    admin = await sync(make_user)(role=Role.ADMIN)
    member = await sync(make_user)()
    outsider = await sync(make_user)(role=Role.ADMIN, organization=await sync(make_organization)("Globex"))
    people, verification = await feeds_of(admin, PEOPLE, VERIFICATION)
    (foreign,) = await feeds_of(outsider, PEOPLE)

    await sync(user_set_role)(user=member, role=Role.MANAGER, actor=admin)
    for socket in (people, verification):
        event = await exactly_one(socket, "user.role_changed")
        assert event["data"]["id"] == str(member.pk)
        assert (event["data"]["role"], event["data"]["previous_role"]) == (Role.MANAGER, Role.USER)
        no_secrets(event)
    assert (await sync(User.objects.get)(pk=member.pk)).role == Role.MANAGER

    await sync(user_set_role)(user=member, role=Role.MANAGER, actor=admin)  # the same role: no change, no event
    await sync(employee_update)(actor=admin, employee=member, is_accountant=True)
    for socket in (people, verification):
        event = await exactly_one(socket, "user.role_changed")  # exactly_one: the no-op above sent nothing
        assert event["data"]["is_accountant"] is True and event["data"]["role"] == Role.MANAGER
    assert await foreign.receive_nothing(timeout=2)
    await close(people, verification, foreign)


async def test_a_refused_role_change_sends_nothing(make_user, stop_relay):
    admin = await sync(make_user)(role=Role.ADMIN)
    manager = await sync(make_user)(role=Role.MANAGER)
    member = await sync(make_user)()
    (people,) = await feeds_of(admin, PEOPLE)
    with pytest.raises(Forbidden):
        await sync(user_set_role)(user=member, role=Role.ADMIN, actor=manager)
    assert await people.receive_nothing(timeout=3)
    assert (await sync(User.objects.get)(pk=member.pk)).role == Role.USER
    await close(people)
