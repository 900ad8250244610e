"""Reporting fixtures. Tax reports and statements are the organization's books: only those who may
view them (core.permissions.can_view_books: accountants, managers, admins) use the API and pages, so
here the suite-wide `taxpayer` (a member of "Acme" with the hand-worked Koinly history) works the
books as an accountant."""

import pytest


@pytest.fixture
def taxpayer(taxpayer):
    taxpayer.is_accountant = True
    taxpayer.save(update_fields=["is_accountant"])
    return taxpayer


@pytest.fixture
def other_organization_admin(make_organization, make_user):
    """The ADMIN of another organization ("Globex"), with books of its own (empty)."""
    from accounts.models import Role

    return make_user(role=Role.ADMIN, organization=make_organization("Globex"))
