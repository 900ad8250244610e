"""Joining an organization is consented: invitations by email (through the real SMTP server), accepted
or declined by the invitee, revoked by the organization, expiring; `add-existing` only invites.

Reproduction of the issue: a manager's add-existing of a stranger answered 200 and moved them into the
team, after which a status change locked them out of their own account."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.models import AuditLogEntry, Invitation, Notification, User
from core.models import RealtimeEvent

pytestmark = pytest.mark.django_db

STRONG = "Gr33n!Ledger#42"


@pytest.fixture
def as_user(client, access_token_for):
    def login(user):
        token = access_token_for(user)
        return lambda method, path, data=None: getattr(client, method)(
            path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return login


def code_of(response):
    return response.json()["error"]["code"]


def body_of(message) -> str:
    if message.is_multipart():
        return message.get_payload()[0].get_payload(decode=True).decode()
    return message.get_payload(decode=True).decode()


def invitation_token(mailbox, to: str) -> str:
    messages = [m for m in mailbox if m["To"] == to]
    assert messages, [m["To"] for m in mailbox]
    match = re.search(r"/app/invitations/accept/\?token=([^\s]+)", body_of(messages[-1]))
    assert match, body_of(messages[-1])
    return match.group(1)


@pytest.fixture
def acme(make_user):
    """The inviting organization ("Acme", the test's main one): an admin, a manager and their employee."""
    admin = make_user(role="ADMIN", username="ada")
    manager = make_user(role="MANAGER", username="maya")
    employee = make_user(username="eli", manager=manager)
    return admin, manager, employee


@pytest.fixture
def stranger(make_user, make_organization):
    """Someone who registered on their own: the admin of their own one-person organization."""
    return make_user(role="ADMIN", username="sam", email="sam@example.test",
                     organization=make_organization("Sam's books", is_personal=True))


# --- (a) the reproduction: add-existing never moves anyone ---------------------------------------------

def test_add_existing_only_invites_and_a_status_change_on_a_stranger_is_404(acme, stranger, as_user, mailbox):
    _, manager, _ = acme
    own_organization = stranger.organization_id
    call = as_user(manager)
    response = call("post", "/api/auth/employees/add-existing/", {"username": "sam"})
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "PENDING" and response.json()["email"] == "sam@example.test"
    assert response.json()["organization"]["name"] == "Acme" and response.json()["role"] == "USER"
    stranger.refresh_from_db()
    assert stranger.organization_id == own_organization and stranger.manager_id is None
    assert stranger.role == "ADMIN" and stranger.is_active
    # Nothing the manager can do to them: they are not a member.
    assert call("put", f"/api/auth/employees/{stranger.pk}/status/", {"is_active": False}).status_code == 404
    assert call("post", f"/api/employees/{stranger.pk}/verify/", {}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active
    # They were told, by email and in the app.
    assert invitation_token(mailbox, "sam@example.test")
    assert Notification.objects.filter(user=stranger, title="Invitation to join Acme").exists()


def test_add_existing_refusals(acme, as_user, stranger):
    _, manager, employee = acme
    call = as_user(manager)
    assert call("post", "/api/auth/employees/add-existing/", {"username": "nobody"}).status_code == 404
    assert code_of(call("post", "/api/auth/employees/add-existing/", {"username": "eli"})) == "already_member"
    assert code_of(call("post", "/api/auth/employees/add-existing/", {"username": "maya"})) == "already_member"
    assert Invitation.objects.count() == 0


# --- (b) invite -> accept, end to end through the SMTP mailbox -------------------------------------------

def test_invite_then_accept_from_the_link_joins_with_the_role_and_the_verification_flow(
        acme, stranger, as_user, mailbox, organization):
    _, manager, _ = acme
    created = as_user(manager)("post", "/api/auth/invitations/", {"email": "SAM@example.test"})
    assert created.status_code == 201 and created.json()["email"] == "sam@example.test"
    invitation = Invitation.objects.get(pk=created.json()["id"])
    token = invitation_token(mailbox, "sam@example.test")
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64  # only the hash is stored
    assert invitation.expires_at - timezone.now() > dt.timedelta(days=6, hours=23)  # INVITATION_TTL_SECONDS: 7 days

    invitee = as_user(stranger)
    received = invitee("get", "/api/auth/invitations/").json()["items"]
    assert [i["id"] for i in received] == [str(invitation.pk)] and received[0]["invited_by"]

    accepted = invitee("post", "/api/auth/invitations/accept-token/", {"token": token})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["organization"]["name"] == "Acme" and accepted.json()["role"] == "USER"
    stranger.refresh_from_db()
    assert stranger.organization_id == organization.pk and stranger.manager_id == manager.pk
    assert not stranger.is_verified_by_manager and not stranger.is_staff
    assert list(stranger.groups.values_list("name", flat=True)) == ["USER"]
    invitation.refresh_from_db()
    assert invitation.status == "ACCEPTED" and invitation.accepted_by_id == stranger.pk
    # The manager's verification flow now runs for them.
    queue = as_user(manager)("get", "/api/auth/employees/").json()["items"]
    assert "sam" in [e["username"] for e in queue]
    assert as_user(manager)("post", f"/api/employees/{stranger.pk}/verify/", {}).json()["is_verified_by_manager"]
    assert Notification.objects.filter(user=manager, title="Invitation accepted").exists()
    assert AuditLogEntry.objects.filter(action="invitation_accepted", organization=organization).exists()
    assert RealtimeEvent.objects.filter(group=f"org.{organization.pk}.admin.manager-verification",
                                        event_type="employee.added").exists()
    # Token reuse: the link works once.
    again = invitee("post", "/api/auth/invitations/accept-token/", {"token": token})
    assert again.status_code == 409 and code_of(again) in ("invitation_not_pending", "already_member")


def test_accept_by_id_and_an_admin_invites_any_role(acme, stranger, as_user, mailbox, organization):
    admin, _, _ = acme
    invitation_id = as_user(admin)("post", "/api/auth/invitations/", {"email": "sam@example.test",
                                                                      "role": "MANAGER"}).json()["id"]
    response = as_user(stranger)("post", f"/api/auth/invitations/{invitation_id}/accept/")
    assert response.status_code == 200 and response.json()["role"] == "MANAGER"
    stranger.refresh_from_db()
    assert stranger.is_staff and stranger.manager_id is None and stranger.organization_id == organization.pk
    assert list(stranger.groups.values_list("name", flat=True)) == ["MANAGER"]


def test_a_manager_invites_users_only_and_plain_users_not_at_all(acme, as_user):
    admin, manager, employee = acme
    for role in ("MANAGER", "ADMIN"):
        assert as_user(manager)("post", "/api/auth/invitations/", {"email": "x@example.test", "role": role}).status_code == 403
    assert as_user(employee)("post", "/api/auth/invitations/", {"email": "x@example.test"}).status_code == 403
    assert as_user(employee)("get", "/api/auth/invitations/?box=sent").status_code == 403
    assert as_user(manager)("post", "/api/auth/invitations/", {"email": "not-an-email"}).status_code == 422
    assert as_user(manager)("post", "/api/auth/invitations/", {"email": "x@example.test", "role": "OWNER"}).status_code == 422
    assert code_of(as_user(manager)("post", "/api/auth/invitations/", {"email": employee.email})) == "already_member"
    assert Invitation.objects.count() == 0


def test_refused_values_are_reported_at_their_place(acme, as_user, client, mailbox):
    """One shape for every validation error: details.fields lists {location, message, type}."""
    _, manager, _ = acme

    def places(response):
        assert response.status_code == 422 and code_of(response) == "validation_error", response.content
        fields = response.json()["error"]["details"]["fields"]
        assert all(field["message"] and field["type"] for field in fields)
        return [field["location"] for field in fields]

    assert places(as_user(manager)("post", "/api/auth/invitations/", {"email": "not-an-email"})) == [["body", "email"]]
    assert places(as_user(manager)("get", "/api/auth/invitations/?box=everything")) == [["query", "box"]]
    as_user(manager)("post", "/api/auth/invitations/", {"email": "newbie@example.test"})
    wrong_email = client.post("/api/auth/register/", {
        "username": "newbie", "password": STRONG, "first_name": "New", "last_name": "Bie",
        "email": "other@example.test", "invitation_token": invitation_token(mailbox, "newbie@example.test")},
        content_type="application/json")
    assert places(wrong_email) == [["body", "email"]]


def test_a_new_person_registers_from_the_link_into_the_organization(acme, client, as_user, mailbox, organization):
    _, manager, _ = acme
    as_user(manager)("post", "/api/auth/invitations/", {"email": "newbie@example.test"})
    token = invitation_token(mailbox, "newbie@example.test")
    base = {"username": "newbie", "password": STRONG, "first_name": "New", "last_name": "Bie", "invitation_token": token}
    wrong_email = client.post("/api/auth/register/", {**base, "email": "other@example.test"},
                              content_type="application/json")
    assert wrong_email.status_code == 422 and not User.objects.filter(username="newbie").exists()
    response = client.post("/api/auth/register/", {**base, "email": "newbie@example.test"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["organization"]["name"] == "Acme" and response.json()["role"] == "USER"
    newbie = User.objects.get(username="newbie")
    assert newbie.organization_id == organization.pk and newbie.manager_id == manager.pk
    assert newbie.email_verified and not newbie.is_verified_by_manager
    assert Invitation.objects.get().status == "ACCEPTED"
    assert client.post("/api/auth/login/", {"username": "newbie", "password": STRONG},
                       content_type="application/json").status_code == 200
    reused = client.post("/api/auth/register/", {**base, "username": "newbie2", "email": "newbie@example.test"},
                         content_type="application/json")
    assert reused.status_code == 409


# --- decline, revoke, expiry, the wrong invitee -----------------------------------------------------------

def test_decline(acme, stranger, as_user, mailbox):
    _, manager, _ = acme
    invitation_id = as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email}).json()["id"]
    response = as_user(stranger)("post", f"/api/auth/invitations/{invitation_id}/decline/")
    assert response.status_code == 200 and response.json()["status"] == "DECLINED"
    stranger.refresh_from_db()
    assert stranger.organization.name == "Sam's books"
    assert as_user(stranger)("post", f"/api/auth/invitations/{invitation_id}/accept/").status_code == 409
    assert Notification.objects.filter(user=manager, title="Invitation declined").exists()
    assert as_user(stranger)("get", "/api/auth/invitations/").json()["items"] == []


def test_revoke(acme, stranger, as_user, mailbox, make_user, make_organization):
    admin, manager, employee = acme
    invitation_id = as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email}).json()["id"]
    token = invitation_token(mailbox, stranger.email)
    assert as_user(employee)("post", f"/api/auth/invitations/{invitation_id}/revoke/").status_code == 403
    outsider = make_user(role="ADMIN", organization=make_organization("Globex"))
    assert as_user(outsider)("post", f"/api/auth/invitations/{invitation_id}/revoke/").status_code == 404
    assert as_user(stranger)("post", f"/api/auth/invitations/{invitation_id}/revoke/").status_code == 404
    response = as_user(manager)("post", f"/api/auth/invitations/{invitation_id}/revoke/")
    assert response.status_code == 200 and response.json()["status"] == "REVOKED"
    refused = as_user(stranger)("post", "/api/auth/invitations/accept-token/", {"token": token})
    assert refused.status_code == 409 and code_of(refused) == "invitation_not_pending"
    assert as_user(manager)("post", f"/api/auth/invitations/{invitation_id}/revoke/").status_code == 409
    stranger.refresh_from_db()
    assert stranger.organization.name == "Sam's books"
    sent = as_user(manager)("get", "/api/auth/invitations/?box=sent").json()["items"]
    assert [(i["email"], i["status"]) for i in sent] == [(stranger.email, "REVOKED")]
    assert as_user(outsider)("get", "/api/auth/invitations/?box=sent").json()["items"] == []


def test_an_admins_invitation_to_a_manager_role_is_not_a_managers_to_revoke(acme, as_user, mailbox):
    admin, manager, _ = acme
    invitation_id = as_user(admin)("post", "/api/auth/invitations/", {"email": "boss@example.test",
                                                                      "role": "ADMIN"}).json()["id"]
    assert as_user(manager)("post", f"/api/auth/invitations/{invitation_id}/revoke/").status_code == 403
    assert as_user(admin)("post", f"/api/auth/invitations/{invitation_id}/revoke/").status_code == 200


def test_expired_invitation_is_410(acme, stranger, as_user, mailbox, settings, client):
    settings.INVITATION_TTL_SECONDS = -1
    _, manager, _ = acme
    invitation_id = as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email}).json()["id"]
    token = invitation_token(mailbox, stranger.email)
    for response in (as_user(stranger)("post", f"/api/auth/invitations/{invitation_id}/accept/"),
                     as_user(stranger)("post", "/api/auth/invitations/accept-token/", {"token": token}),
                     as_user(stranger)("post", f"/api/auth/invitations/{invitation_id}/decline/")):
        assert response.status_code == 410 and code_of(response) == "invitation_expired"
    registered = client.post("/api/auth/register/", {"username": "late", "email": "late@example.test",
                                                     "password": STRONG, "first_name": "L", "last_name": "Ate",
                                                     "invitation_token": token}, content_type="application/json")
    assert registered.status_code == 410
    assert as_user(stranger)("get", "/api/auth/invitations/").json()["items"] == []
    sent = as_user(manager)("get", "/api/auth/invitations/?box=sent").json()["items"]
    assert sent[0]["status"] == "PENDING" and sent[0]["is_expired"] is True
    stranger.refresh_from_db()
    assert stranger.organization.name == "Sam's books"


def test_only_the_invitee_answers(acme, stranger, as_user, mailbox, make_user):
    _, manager, employee = acme
    invitation_id = as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email}).json()["id"]
    token = invitation_token(mailbox, stranger.email)
    for someone in (employee, manager):
        call = as_user(someone)
        assert call("post", f"/api/auth/invitations/{invitation_id}/accept/").status_code == 404
        assert call("post", f"/api/auth/invitations/{invitation_id}/decline/").status_code == 404
        assert call("post", "/api/auth/invitations/accept-token/", {"token": token}).status_code == 404
    assert as_user(stranger)("post", "/api/auth/invitations/accept-token/", {"token": "forged"}).status_code == 400
    assert Invitation.objects.get(pk=invitation_id).status == "PENDING"


def test_the_last_admin_of_an_organization_with_members_cannot_accept(acme, as_user, mailbox, make_user,
                                                                        make_organization):
    _, manager, _ = acme
    globex = make_organization("Globex")
    boss = make_user(role="ADMIN", username="boss", organization=globex)
    make_user(username="worker", organization=globex)
    invitation_id = as_user(manager)("post", "/api/auth/invitations/", {"email": boss.email}).json()["id"]
    refused = as_user(boss)("post", f"/api/auth/invitations/{invitation_id}/accept/")
    assert refused.status_code == 409 and code_of(refused) == "last_admin"
    assert "last admin" in refused.json()["error"]["message"]
    boss.refresh_from_db()
    assert boss.organization_id == globex.pk and Invitation.objects.get().status == "PENDING"
    make_user(role="ADMIN", username="deputy", organization=globex)  # another admin: now they may go
    assert as_user(boss)("post", f"/api/auth/invitations/{invitation_id}/accept/").status_code == 200


def test_a_new_invitation_replaces_the_pending_one(acme, stranger, as_user, mailbox):
    _, manager, _ = acme
    as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email})
    first = invitation_token(mailbox, stranger.email)
    as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email})
    second = invitation_token(mailbox, stranger.email)
    assert first != second
    assert code_of(as_user(stranger)("post", "/api/auth/invitations/accept-token/", {"token": first})) == "invitation_not_pending"
    assert as_user(stranger)("post", "/api/auth/invitations/accept-token/", {"token": second}).status_code == 200


# --- the pages -------------------------------------------------------------------------------------------

def test_invitations_page_lists_and_accepts_with_htmx(acme, stranger, as_user, client, mailbox):
    _, manager, _ = acme
    invitation_id = as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email}).json()["id"]
    client.force_login(stranger)
    page = client.get("/app/invitations/")
    assert page.status_code == 200 and b'data-organization="Acme"' in page.content
    answer = client.post(f"/app/invitations/{invitation_id}/accept/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and b'id="invitation-accepted"' in answer.content
    stranger.refresh_from_db()
    assert stranger.organization.name == "Acme"
    assert b'id="no-invitations"' in client.get("/app/invitations/").content


def test_invitation_link_page_for_the_anonymous_the_invitee_and_someone_else(acme, stranger, as_user, client,
                                                                              mailbox, make_user):
    _, manager, employee = acme
    as_user(manager)("post", "/api/auth/invitations/", {"email": stranger.email})
    token = invitation_token(mailbox, stranger.email)
    url = f"/app/invitations/accept/?token={token}"
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert b'id="invitation-login"' in anonymous.content and b'id="invitation-register"' in anonymous.content
    client.force_login(employee)
    assert b'id="invitation-other-user"' in client.get(url).content
    assert client.post("/app/invitations/accept/", {"token": token}).status_code == 403
    client.force_login(stranger)
    assert b'id="accept-invitation"' in client.get(url).content
    done = client.post("/app/invitations/accept/", {"token": token, "decision": "accept"})
    assert done.status_code == 200 and b'id="invitation-accepted"' in done.content
    stranger.refresh_from_db()
    assert stranger.organization.name == "Acme"
    assert client.get(url).status_code == 409
    assert client.get("/app/invitations/accept/?token=forged").status_code == 404


def test_register_page_from_the_invitation_link(acme, client, as_user, mailbox, organization):
    _, manager, _ = acme
    as_user(manager)("post", "/api/auth/invitations/", {"email": "nora@example.test"})
    token = invitation_token(mailbox, "nora@example.test")
    form = client.get(f"/app/register/?invitation={token}")
    assert form.status_code == 200 and b'id="register-invitation"' in form.content
    assert b'value="nora@example.test"' in form.content
    done = client.post("/app/register/", {"username": "nora", "email": "nora@example.test", "password": STRONG,
                                          "first_name": "Nora", "last_name": "North", "invitation_token": token})
    assert done.status_code == 200 and b'id="register-joined"' in done.content
    assert User.objects.get(username="nora").organization_id == organization.pk


def test_team_page_sends_and_revokes_invitations(acme, client, mailbox):
    _, manager, _ = acme
    client.force_login(manager)
    sent = client.post("/app/team/invite/", {"email": "pat@example.test", "role": "USER"})
    assert sent.status_code == 200 and b'id="invitation-sent"' in sent.content
    assert b'data-email="pat@example.test"' in sent.content
    assert invitation_token(mailbox, "pat@example.test")
    refused = client.post("/app/team/invite/", {"email": "boss@example.test", "role": "ADMIN"})
    assert refused.status_code == 400 and b'role="alert"' in refused.content
    assert not Invitation.objects.filter(email="boss@example.test").exists()
    invitation = Invitation.objects.get(email="pat@example.test")
    revoked = client.post(f"/app/team/invitations/{invitation.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert revoked.status_code == 200 and b"Revoked" in revoked.content
    invitation.refresh_from_db()
    assert invitation.status == "REVOKED"
