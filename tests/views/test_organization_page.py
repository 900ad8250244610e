"""/app/organization/: every member reads their organization's settings; its admins change them
through the same service as the API (same validation, the fiat fixed once transactions exist)."""

import pytest

from core.permissions import Role

pytestmark = pytest.mark.django_db


def test_an_admin_changes_the_settings_and_branding(client, make_user, organization):
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/app/organization/")
    assert page.status_code == 200 and 'data-may-edit="true"' in page.content.decode()
    response = client.post("/app/organization/", {
        "name": "Acme Books", "reporting_fiat": "gbp", "cost_basis_method": "uk", "cost_basis_lot_scope": "all",
        "fiscal_year_start_month": "4", "fiscal_year_start_day": "6", "time_zone": "Europe/London",
        "primary_color": "#112233", "address": "1 Ledger Lane", "tax_id": "GB123"})
    assert response.status_code == 200 and 'id="organization-saved"' in response.content.decode()
    organization.refresh_from_db()
    assert (organization.name, organization.reporting_fiat, organization.cost_basis_method,
            organization.fiscal_year_start_month, organization.fiscal_year_start_day, organization.time_zone,
            organization.primary_color, organization.tax_id) == (
        "Acme Books", "GBP", "uk", 4, 6, "Europe/London", "#112233", "GB123")


def test_bad_values_are_shown_and_nothing_is_saved(client, make_user, organization):
    client.force_login(make_user(Role.ADMIN))
    response = client.post("/app/organization/", {"primary_color": "red", "time_zone": "Mars/Olympus",
                                                  "fiscal_year_start_month": "13"})
    html = response.content.decode()
    assert response.status_code == 400 and "#RRGGBB" in html and "not a time zone" in html
    organization.refresh_from_db()
    assert (organization.primary_color, organization.time_zone) == ("", "UTC")


def test_members_read_it_and_only_admins_change_it(client, make_user, organization):
    client.force_login(make_user(Role.MANAGER))
    page = client.get("/app/organization/")
    assert page.status_code == 200 and 'data-may-edit="false"' in page.content.decode()
    assert organization.name in page.content.decode()
    assert client.post("/app/organization/", {"name": "Taken over"}).status_code == 403
    organization.refresh_from_db()
    assert organization.name == "Acme"


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/app/organization/")
    assert response.status_code == 302 and "/login" in response["Location"]
