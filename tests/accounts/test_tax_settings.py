"""The tax settings on the profile (reporting fiat, cost-basis method, lot scope): the same keys as
before, now the organization's. Reading them is for every member; changing them is the organization
admin's (core.permissions.can_manage_organization), and the fiat is fixed once something holds values
in it (core.organizations.reporting_fiat_lock_reason)."""

import pytest

from core import organizations as core_organizations


def _put(client, token, body):
    return client.put("/api/auth/profile/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def _get(client, token):
    return client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {token}").json()


def test_defaults_and_changes_by_the_admin(client, make_user, access_token_for, organization):
    admin = make_user(role="ADMIN")
    token = access_token_for(admin)
    profile = _get(client, token)
    assert (profile["reporting_fiat"], profile["cost_basis_method"], profile["cost_basis_lot_scope"]) == ("USD", "fifo", "all")
    assert profile["organization"] == {"id": str(organization.pk), "name": "Acme"}

    response = _put(client, token, {"reporting_fiat": "eur", "cost_basis_method": "uk", "cost_basis_lot_scope": "wallet",
                                    "department": "Finance"})
    assert response.status_code == 200, response.content
    assert (response.json()["reporting_fiat"], response.json()["department"]) == ("EUR", "Finance")
    organization.refresh_from_db()
    assert (organization.reporting_fiat, organization.cost_basis_method, organization.cost_basis_lot_scope) == (
        "EUR", "uk", "wallet")


def test_every_member_reads_the_organizations_settings_but_only_its_admin_changes_them(
        client, make_user, access_token_for, organization):
    organization.cost_basis_method = "hifo"
    organization.save()
    for role in ("USER", "MANAGER"):
        member = make_user(role=role)
        token = access_token_for(member)
        assert _get(client, token)["cost_basis_method"] == "hifo"
        refused = _put(client, token, {"cost_basis_method": "lifo", "department": "Ops"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
        assert _put(client, token, {"department": "Ops"}).status_code == 200  # their own fields still work
    organization.refresh_from_db()
    assert organization.cost_basis_method == "hifo"


def test_bad_values_are_422_and_change_nothing(client, make_user, access_token_for, organization):
    token = access_token_for(make_user(role="ADMIN"))
    for body in ({"cost_basis_method": "random"}, {"cost_basis_lot_scope": "exchange"}, {"reporting_fiat": "BTC"},
                 {"reporting_fiat": "US"}):
        response = _put(client, token, body)
        assert response.status_code == 422, body
        assert "error" in response.json()
    organization.refresh_from_db()
    assert (organization.reporting_fiat, organization.cost_basis_method, organization.cost_basis_lot_scope) == (
        "USD", "fifo", "all")


@pytest.fixture
def fiat_locked(monkeypatch):
    """What the wallets app registers: the fiat is fixed once transactions exist."""
    def check(organization):
        return f"{organization.name}'s transactions are valued in {organization.reporting_fiat}"

    monkeypatch.setattr(core_organizations, "_reporting_fiat_lock_checks", [check])


def test_fiat_cannot_change_once_locked(client, make_user, access_token_for, organization, fiat_locked):
    token = access_token_for(make_user(role="ADMIN"))
    response = _put(client, token, {"reporting_fiat": "EUR"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "reporting_fiat_locked"
    assert "valued in USD" in response.json()["error"]["message"]
    assert _put(client, token, {"reporting_fiat": "USD", "cost_basis_method": "hifo"}).status_code == 200
    organization.refresh_from_db()
    assert (organization.reporting_fiat, organization.cost_basis_method) == ("USD", "hifo")
