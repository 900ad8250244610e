"""Employees (both URL sets) with team scoping, and notifications with ownership checks."""

import re

import pytest
from bson import ObjectId

from accounts.models import AuditLogEntry, Notification
from accounts.models import User
from accounts.notifications import notification_create
from core.models import RealtimeEvent
from wallets.models import WalletType
from wallets.services import wallet_create
from core.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client, access_token_for):
    def login(user):
        token = access_token_for(user)
        return lambda method, path, data=None: getattr(client, method)(
            path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return login


@pytest.fixture
def team(make_user):
    manager = make_user(role="MANAGER", username="maya")
    other_manager = make_user(role="MANAGER", username="omar")
    mine = make_user(username="eli", manager=manager)
    theirs = make_user(username="zed", manager=other_manager)
    return manager, other_manager, mine, theirs


@pytest.fixture
def outsiders(make_user, make_organization):
    """Another organization: its manager and one of their employees."""
    other = make_organization("Globex")
    boss = make_user(role="MANAGER", username="hank", organization=other)
    worker = make_user(username="stranger", manager=boss, organization=other)
    return other, boss, worker


def code_of(response):
    return response.json()["error"]["code"]


def test_manager_creates_an_employee_who_sets_a_password_by_email(team, as_user, client, mailbox, organization):
    manager = team[0]
    call = as_user(manager)
    response = call("post", "/api/auth/employees/add/", {"username": "newbie", "email": "newbie@example.test",
                                                         "first_name": "New", "last_name": "Bie"})
    assert response.status_code == 201
    assert response.json()["manager_id"] == str(manager.pk) and response.json()["is_verified_by_manager"] is False
    employee = User.objects.get(username="newbie")
    assert not employee.has_usable_password()
    # Made directly inside the manager's organization (a new person: nothing is taken from them).
    assert employee.organization_id == organization.pk and employee.role == "USER"
    token = re.search(r"reset-password/\?token=(\S+)", mailbox[-1].get_payload()).group(1)
    accepted = client.post("/api/auth/reset-password/", {"token": token, "new_password": "Fresh!Start#2026"},
                           content_type="application/json")
    assert accepted.status_code == 200
    assert client.post("/api/auth/login/", {"username": "newbie", "password": "Fresh!Start#2026"},
                       content_type="application/json").status_code == 200
    assert AuditLogEntry.objects.filter(action="employee_invited", actor_username="maya",
                                        organization=organization).exists()
    assert RealtimeEvent.objects.filter(group=f"org.{organization.pk}.admin.manager-verification",
                                        event_type="employee.added").exists()


def test_team_lists_are_scoped(team, as_user, make_user, outsiders):
    manager, other_manager, mine, theirs = team
    names = [e["username"] for e in as_user(manager)("get", "/api/auth/employees/").json()["items"]]
    assert names == ["eli"]
    assert [e["username"] for e in as_user(manager)("get", "/api/employees/").json()["items"]] == ["eli"]
    admin = make_user(role="ADMIN", username="root")
    everyone = {e["username"] for e in as_user(admin)("get", "/api/employees/?limit=200").json()["items"]}
    assert everyone == {"maya", "omar", "eli", "zed", "root"}  # the organization, nobody else's
    assert as_user(manager)("get", f"/api/employees/team/{other_manager.pk}/").status_code == 404
    assert [e["username"] for e in as_user(admin)("get", f"/api/employees/team/{other_manager.pk}/").json()["items"]] == ["zed"]
    assert as_user(admin)("get", f"/api/employees/team/{outsiders[1].pk}/").status_code == 404


def test_users_cannot_reach_manager_endpoints(team, as_user):
    employee = team[2]
    call = as_user(employee)
    assert code_of(call("get", "/api/auth/employees/")) == "permission_denied"
    assert call("post", f"/api/employees/{employee.pk}/verify/", {}).status_code == 403
    assert call("post", "/api/employees/", {"username": "x1y", "email": "x@example.test", "first_name": "X",
                                            "last_name": "Y"}).status_code == 403
    assert call("post", "/api/auth/employees/add-existing/", {"username": "zed"}).status_code == 403


EVERY_EMPLOYEE_ENDPOINT = [
    ("get", "/api/employees/{id}/", None),
    ("put", "/api/employees/{id}/", {"department": "Sales"}),
    ("put", "/api/employees/{id}/", {"is_accountant": True}),
    ("delete", "/api/employees/{id}/", None),
    ("post", "/api/employees/{id}/verify/", {}),
    ("get", "/api/employees/team/{id}/", None),
    ("put", "/api/auth/employees/{id}/status/", {"is_active": False}),
    ("delete", "/api/auth/employees/{id}/remove/", None),
]


@pytest.mark.parametrize("role", ["MANAGER", "ADMIN"])
def test_another_organizations_people_are_404_on_every_employee_endpoint(team, as_user, make_user, outsiders, role):
    other, boss, stranger = outsiders
    call = as_user(make_user(role=role))
    for method, path, data in EVERY_EMPLOYEE_ENDPOINT:
        for target in (stranger, boss):
            response = call(method, path.format(id=target.pk), data)
            assert response.status_code == 404, (method, path, target.username, response.content)
    for method, path, data in [("get", f"/api/employees/{ObjectId()}/", None), ("get", "/api/employees/not-an-id/", None),
                               ("post", "/api/notifications/", {"title": "x", "message": "y", "user_id": str(stranger.pk)})]:
        assert call(method, path, data).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active and stranger.organization_id == other.pk and stranger.manager_id == boss.pk
    assert not stranger.is_verified_by_manager and stranger.department == "" and not stranger.is_accountant


def test_a_manager_manages_the_organizations_plain_users_not_its_managers(team, as_user):
    manager, other_manager, _, theirs = team
    call = as_user(manager)
    # Another team's plain user of the same organization: core.permissions.can_manage_member allows it.
    assert call("post", f"/api/employees/{theirs.pk}/verify/", {}).status_code == 200
    # A fellow manager: visible, but not theirs to manage.
    assert call("get", f"/api/employees/{other_manager.pk}/").status_code == 200
    for method, path, data in [("put", f"/api/auth/employees/{other_manager.pk}/status/", {"is_active": False}),
                               ("post", f"/api/employees/{other_manager.pk}/verify/", {}),
                               ("delete", f"/api/auth/employees/{other_manager.pk}/remove/", None)]:
        assert call(method, path, data).status_code == 403, path
    other_manager.refresh_from_db()
    assert other_manager.is_active and other_manager.organization_id == manager.organization_id


def test_verify_and_status(team, as_user):
    manager, _, mine, _ = team
    call = as_user(manager)
    assert call("post", f"/api/employees/{mine.pk}/verify/", {}).json()["is_verified_by_manager"] is True
    assert Notification.objects.filter(user=mine, title="Your manager verified your account").exists()
    assert call("post", f"/api/employees/{mine.pk}/verify/", {"approve": False}).json()["is_verified_by_manager"] is False
    assert call("put", f"/api/auth/employees/{mine.pk}/status/", {"is_active": False}).json()["is_active"] is False
    assert call("put", f"/api/auth/employees/{mine.pk}/status/", {"is_active": "maybe"}).status_code == 422
    actions = set(AuditLogEntry.objects.values_list("action", flat=True))
    assert {"employee_verified", "employee_rejected", "employee_deactivated"} <= actions


def test_deactivating_ends_the_employees_sessions(team, as_user, access_token_for, client):
    manager, _, mine, _ = team
    employee_token = access_token_for(mine)
    as_user(manager)("put", f"/api/auth/employees/{mine.pk}/status/", {"is_active": False})
    assert client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {employee_token}").status_code == 401


def test_employee_update_and_delete_keep_records(team, as_user):
    manager, _, mine, _ = team
    call = as_user(manager)
    updated = call("put", f"/api/employees/{mine.pk}/", {"department": "Ops", "employee_id": "EMP-9"})
    assert updated.status_code == 200 and updated.json()["department"] == "Ops"
    assert call("put", f"/api/employees/{mine.pk}/", {"role": "ADMIN"}).status_code == 422
    assert call("delete", f"/api/employees/{mine.pk}/").status_code == 200
    mine.refresh_from_db()
    assert not mine.is_active and mine.manager_id is None and User.objects.filter(pk=mine.pk).exists()
    assert mine.organization_id == manager.organization_id  # a deactivated member: the records stay


def test_only_an_admin_makes_someone_an_accountant(team, as_user, make_user):
    manager, _, mine, _ = team
    assert as_user(manager)("put", f"/api/employees/{mine.pk}/", {"is_accountant": True}).status_code == 403
    admin = make_user(role="ADMIN", username="root")
    response = as_user(admin)("put", f"/api/employees/{mine.pk}/", {"is_accountant": True})
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.is_accountant and mine.role == "USER"
    assert AuditLogEntry.objects.filter(action="accountant_granted", actor_username="root").exists()
    assert as_user(admin)("put", f"/api/employees/{admin.pk}/", {"is_accountant": True}).status_code == 403


def test_unverified_employees_cannot_create_wallets(team):
    _, _, mine, _ = team
    with pytest.raises(DomainError) as refused:
        wallet_create(user=mine, name="too early", wallet_type=WalletType.PRIVATE_KEY)
    assert refused.value.code == "employee_not_verified"
    mine.is_verified_by_manager = True
    mine.save()
    assert wallet_create(user=mine, name="now", wallet_type=WalletType.PRIVATE_KEY).pk


# --- notifications ----------------------------------------------------------------------------------
def test_notifications_list_unread_read_and_delete(make_user, as_user):
    user = make_user()
    call = as_user(user)
    first = notification_create(user=user, title="One", message="m1")
    notification_create(user=user, title="Two", message="m2")
    notification_create(user=user, title="Old", message="gone", expires_at="2000-01-01T00:00:00Z")
    titles = [n["title"] for n in call("get", "/api/notifications/").json()["items"]]
    assert sorted(titles) == ["One", "Two"]
    assert call("put", f"/api/notifications/{first.pk}/read/").json()["is_read"] is True
    assert [n["title"] for n in call("get", "/api/notifications/?unread=true").json()["items"]] == ["Two"]
    assert call("delete", f"/api/notifications/{first.pk}/").status_code == 200
    assert not Notification.objects.filter(pk=first.pk).exists()


def test_notifications_of_others_are_404(make_user, as_user):
    owner, other = make_user(), make_user()
    note = notification_create(user=owner, title="Mine", message="m")
    call = as_user(other)
    assert call("put", f"/api/notifications/{note.pk}/read/").status_code == 404
    assert call("delete", f"/api/notifications/{note.pk}/").status_code == 404
    note.refresh_from_db()
    assert not note.is_read


def test_create_notification_for_self_or_the_members_one_manages(team, as_user, mailbox, outsiders):
    manager, other_manager, mine, _ = team
    theirs = outsiders[2]
    call = as_user(manager)
    created = call("post", "/api/notifications/", {"title": "Payday", "message": "Friday", "user_id": str(mine.pk),
                                                   "priority": "HIGH", "type": "PAYROLL"})
    assert created.status_code == 201
    assert Notification.objects.filter(user=mine, title="Payday").exists()
    assert any(m["To"] == mine.email for m in mailbox)  # HIGH is emailed
    assert call("post", "/api/notifications/", {"title": "x", "message": "y", "user_id": str(theirs.pk)}).status_code == 404
    assert call("post", "/api/notifications/", {"title": "x", "message": "y",
                                                "user_id": str(other_manager.pk)}).status_code == 403
    assert call("post", "/api/notifications/", {"title": "x", "message": "y", "priority": "URGENT"}).status_code == 422
    assert call("post", "/api/notifications/", {"title": "", "message": "y"}).status_code == 422


def test_new_notification_is_pushed_to_the_users_group(make_user):
    user = make_user()
    notification_create(user=user, title="Ping", message="m")
    event = RealtimeEvent.objects.get(group=f"user.{user.pk}")
    assert event.event_type == "notification.created" and event.payload["title"] == "Ping"


def test_create_employee_on_both_url_sets_and_refuse_bad_input(team, as_user, mailbox):
    call = as_user(team[0])
    body = {"username": "ana", "email": "ana@example.test", "first_name": "Ana", "last_name": "Lee"}
    assert call("post", "/api/employees/", body).status_code == 201
    assert call("post", "/api/auth/employees/add/", body).status_code == 409  # already registered
    assert call("post", "/api/auth/employees/add/", {**body, "username": "ana2", "email": "bad"}).status_code == 422
    assert call("post", "/api/auth/employees/add/", {**body, "username": "x" * 151}).status_code == 422
    assert call("post", "/api/auth/employees/add/", {**body, "username": "ana3", "role": "ADMIN"}).status_code == 422
    assert call("post", "/api/auth/employees/add/", {"username": "ana4"}).status_code == 422
    assert User.objects.filter(username__startswith="ana").count() == 1
    assert [m["To"] for m in mailbox] == ["ana@example.test"]


def test_employee_detail_for_own_team(team, as_user):
    manager, _, mine, _ = team
    response = as_user(manager)("get", f"/api/employees/{mine.pk}/")
    assert response.status_code == 200 and response.json()["username"] == "eli"
    assert "password" not in response.json()


def test_managers_cannot_change_their_own_status(team, as_user, make_user):
    admin = make_user(role="ADMIN", username="root")
    response = as_user(admin)("put", f"/api/auth/employees/{admin.pk}/status/", {"is_active": False})
    assert response.status_code == 409
    admin.refresh_from_db()
    assert admin.is_active
