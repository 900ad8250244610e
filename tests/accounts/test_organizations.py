"""The member's organization: its settings (GET any member, PUT its admin), leaving it and being removed
from it (a fresh personal organization, nothing deleted), and the admin's entrance for non-staff."""

import pytest

from accounts.models import AuditLogEntry, Notification, User
from core import organizations as core_organizations
from core.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client, access_token_for):
    def login(user):
        token = access_token_for(user)
        return lambda method, path, data=None: getattr(client, method)(
            path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return login


def code_of(response):
    return response.json()["error"]["code"]


# --- (e) settings ----------------------------------------------------------------------------------------

def test_every_member_reads_the_organization(make_user, as_user, organization):
    admin = make_user(role="ADMIN")
    accountant = make_user(is_accountant=True)
    make_user(is_active=False)  # not counted
    body = as_user(accountant)("get", "/api/auth/organization/").json()
    assert body["id"] == str(organization.pk) and body["name"] == "Acme"
    assert (body["role"], body["is_accountant"], body["can_manage"]) == ("USER", True, False)
    assert (body["reporting_fiat"], body["cost_basis_method"], body["cost_basis_lot_scope"]) == ("USD", "fifo", "all")
    assert (body["fiscal_year_start_month"], body["fiscal_year_start_day"], body["time_zone"]) == (1, 1, "UTC")
    assert body["branding"]["primary_color"] == "" and body["member_count"] == 2
    assert body["reporting_fiat_locked"] is None
    assert as_user(admin)("get", "/api/auth/organization/").json()["can_manage"] is True


def test_only_the_admin_changes_the_settings(make_user, as_user, organization):
    for role, extra in (("USER", {}), ("USER", {"is_accountant": True}), ("MANAGER", {})):
        refused = as_user(make_user(role=role, **extra))("put", "/api/auth/organization/", {"name": "Mine now"})
        assert refused.status_code == 403 and code_of(refused) == "permission_denied", role
    admin = make_user(role="ADMIN")
    response = as_user(admin)("put", "/api/auth/organization/", {
        "name": "Acme Holdings", "reporting_fiat": "gbp", "cost_basis_method": "uk", "cost_basis_lot_scope": "wallet",
        "fiscal_year_start_month": 4, "fiscal_year_start_day": 6, "time_zone": "Europe/London",
        "branding": {"primary_color": "#1A2b3C", "secondary_color": "", "address": "1 Ledger Lane", "tax_id": "GB123"}})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["reporting_fiat"], body["fiscal_year_start_month"], body["time_zone"]) == (
        "Acme Holdings", "GBP", 4, "Europe/London")
    assert body["branding"]["primary_color"] == "#1A2b3C" and body["branding"]["tax_id"] == "GB123"
    organization.refresh_from_db()
    assert (organization.name, organization.cost_basis_method, organization.fiscal_year_start_day) == (
        "Acme Holdings", "uk", 6)
    assert AuditLogEntry.objects.filter(action="organization_updated", organization=organization).exists()


@pytest.mark.parametrize("body", [
    {"branding": {"primary_color": "red"}}, {"branding": {"secondary_color": "#12345"}},
    {"time_zone": "Mars/Olympus"}, {"fiscal_year_start_month": 13}, {"fiscal_year_start_month": 2,
                                                                      "fiscal_year_start_day": 30},
    {"reporting_fiat": "BTC"}, {"cost_basis_method": "random"}, {"name": ""}, {"lock_date": "2026-01-01"},
    {"is_personal": True},
])
def test_bad_settings_are_422(make_user, as_user, organization, body):
    response = as_user(make_user(role="ADMIN"))("put", "/api/auth/organization/", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "validation_error"
    assert all(field["location"][0] == "body" and field["message"]
               for field in response.json()["error"]["details"]["fields"])
    organization.refresh_from_db()
    assert organization.name == "Acme" and organization.time_zone == "UTC" and organization.primary_color == ""


def test_the_reporting_fiat_is_fixed_while_the_lock_says_so(make_user, as_user, organization, monkeypatch):
    monkeypatch.setattr(core_organizations, "_reporting_fiat_lock_checks",
                        [lambda org: "transactions are valued in USD"])
    call = as_user(make_user(role="ADMIN"))
    assert call("get", "/api/auth/organization/").json()["reporting_fiat_locked"] == "transactions are valued in USD"
    refused = call("put", "/api/auth/organization/", {"reporting_fiat": "EUR", "name": "Renamed"})
    assert refused.status_code == 409 and code_of(refused) == "reporting_fiat_locked"
    assert refused.json()["error"]["message"] == "transactions are valued in USD"
    organization.refresh_from_db()
    assert (organization.reporting_fiat, organization.name) == ("USD", "Acme")
    assert call("put", "/api/auth/organization/", {"reporting_fiat": "usd", "name": "Renamed"}).status_code == 200


# --- (c) leaving and removal -----------------------------------------------------------------------------

def test_leaving_gives_a_fresh_personal_organization_and_keeps_everything(make_user, as_user, organization, mailbox):
    from wallets.models import Wallet, WalletType
    from wallets.services import wallet_create

    manager = make_user(role="MANAGER")
    leaver = make_user(username="lena", first_name="Lena", last_name="Long", manager=manager,
                       is_verified_by_manager=True, is_accountant=True)
    wallet = wallet_create(user=leaver, name="Work wallet", wallet_type=WalletType.METAMASK,
                           address="0x" + "12" * 20)
    response = as_user(leaver)("post", "/api/auth/organization/leave/")
    assert response.status_code == 200, response.content
    leaver.refresh_from_db()
    assert leaver.organization_id != organization.pk and leaver.organization.name == "Lena Long"
    assert leaver.organization.is_personal
    assert leaver.role == "ADMIN" and leaver.is_staff and leaver.manager_id is None and not leaver.is_accountant
    assert list(leaver.groups.values_list("name", flat=True)) == ["ADMIN"]
    # Nothing deleted; the wallet stays with the organization it was made in.
    assert User.objects.filter(pk=leaver.pk, is_active=True).exists()
    wallet = Wallet.objects.get(pk=wallet.pk)
    assert wallet.organization_id == organization.pk and wallet.user_id == leaver.pk
    assert Notification.objects.filter(user=leaver, title="You left Acme").exists()
    assert [m["To"] for m in mailbox] == [leaver.email]
    entry = AuditLogEntry.objects.get(action="organization_left")
    assert entry.organization_id == organization.pk  # seen by Acme's staff, not the new organization's
    # Alone in their own organization now: nothing to leave.
    assert code_of(as_user(leaver)("post", "/api/auth/organization/leave/")) == "nothing_to_leave"


def test_the_last_admin_cannot_leave_an_organization_with_members(make_user, as_user, organization):
    admin = make_user(role="ADMIN")
    make_user()
    refused = as_user(admin)("post", "/api/auth/organization/leave/")
    assert refused.status_code == 409 and code_of(refused) == "last_admin"
    admin.refresh_from_db()
    assert admin.organization_id == organization.pk
    make_user(role="ADMIN")
    assert as_user(admin)("post", "/api/auth/organization/leave/").status_code == 200


def test_removal_moves_the_member_out_and_tells_them(make_user, as_user, organization, mailbox):
    manager = make_user(role="MANAGER", username="maya")
    member = make_user(username="eli", manager=manager)
    notice = Notification.objects.create(user=member, title="Old", message="kept")
    response = as_user(manager)("delete", f"/api/auth/employees/{member.pk}/remove/")
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert member.organization_id != organization.pk and member.organization.is_personal
    assert member.role == "ADMIN" and member.manager_id is None and member.is_active
    assert Notification.objects.filter(pk=notice.pk).exists()
    assert Notification.objects.filter(user=member, title="You were removed from Acme").exists()
    assert [m["To"] for m in mailbox] == [member.email]
    assert AuditLogEntry.objects.filter(action="member_removed", actor_username="maya",
                                        organization=organization).exists()
    # Gone from the organization: the manager can no longer reach them.
    assert as_user(manager)("get", f"/api/employees/{member.pk}/").status_code == 404
    assert as_user(manager)("delete", f"/api/auth/employees/{manager.pk}/remove/").status_code == 409


def test_a_personal_organization_is_not_shared(make_user, as_user, organization):
    first, second = make_user(), make_user()
    make_user(role="ADMIN")  # stays
    as_user(first)("post", "/api/auth/organization/leave/")
    as_user(second)("post", "/api/auth/organization/leave/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert len({first.organization_id, second.organization_id, organization.pk}) == 3
    assert Organization.objects.filter(is_personal=True).count() == 2


# --- (d) the admin's entrance ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/wallets/wallet/"])
def test_a_logged_in_non_staff_user_opening_the_admin_lands_on_the_app_without_a_loop(client, make_user, path):
    client.force_login(make_user())
    response = client.get(path, follow=True)
    assert response.status_code == 200
    chain = [url for url, _ in response.redirect_chain]
    assert chain[-1] == "/app/" and len(chain) <= 3, chain
    assert not any(url.startswith("/app/login/") for url in chain), chain
    assert b"The admin is for the managers and admins" in response.content


def test_an_anonymous_visitor_is_sent_to_the_login_once(client):
    response = client.get("/admin/", follow=True)
    chain = [url for url, _ in response.redirect_chain]
    assert response.status_code == 200 and chain[-1].startswith("/app/login/"), chain
    assert b'name="password"' in response.content


def test_a_page_one_may_not_see_is_a_friendly_403_in_the_back_office(client, make_user):
    client.force_login(make_user())
    response = client.get("/app/team/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="forbidden"' in html and "Only managers and admins manage teams." in html
    assert 'class="bo-header"' in html  # inside the back-office layout


def test_a_move_tells_the_persons_open_sockets(make_user, as_user, organization):
    from core.models import RealtimeEvent

    leaver = make_user()
    make_user()
    as_user(leaver)("post", "/api/auth/organization/leave/")
    leaver.refresh_from_db()
    event = RealtimeEvent.objects.get(group=f"user.{leaver.pk}", event_type="membership.changed")
    assert event.payload == {"organization": str(leaver.organization_id),
                             "previous_organization": str(organization.pk), "role": "ADMIN"}
