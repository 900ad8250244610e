"""accounts/0004: an installation from before organizations moves into one organization.

The users are written as raw documents in the old shape (tax settings on the user, no organization),
then the migration's own function runs with the historical models of that point of the migration."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0004_organizations")


def historical_apps():
    """The models as they are inside 0004 after its AddField steps, before its RemoveField steps."""
    loader = MigrationLoader(connection)
    state = loader.project_state(nodes=[("accounts", "0003_tax_settings"), ("core", "0002_organizations")],
                                 at_end=True)
    run_python_at = next(i for i, op in enumerate(migration.Migration.operations) if op.__class__.__name__ == "RunPython")
    for operation in migration.Migration.operations[:run_python_at]:
        operation.state_forwards("accounts", state)
    return state.apps


def old_user(**fields):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    document = {"password": "!", "is_superuser": False, "is_staff": False, "is_active": True, "email_verified": True,
                "first_name": "Old", "last_name": "Shape", "company": "", "role": "USER", "date_joined": now,
                "created_at": now, "updated_at": now, "reporting_fiat": "USD", "cost_basis_method": "fifo",
                "cost_basis_lot_scope": "all", **fields}
    connection.ensure_connection()
    return connection.database["users"].insert_one(document).inserted_id


class _SchemaEditor:
    connection = connection


def test_every_user_but_the_system_moves_into_one_organization_with_the_admins_tax_settings():
    from accounts.models import User
    from core.models import Organization

    before = set(Organization.objects.values_list("pk", flat=True))
    ids = [
        old_user(username="eve", email="eve@old.test", date_joined=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)),
        old_user(username="boss", email="boss@old.test", role="ADMIN", company="Old Books Ltd",
                 reporting_fiat="GBP", cost_basis_method="uk", cost_basis_lot_scope="wallet"),
        old_user(username="system", email="system@books.invalid", is_active=False, role="ADMIN"),
    ]
    migration.existing_users_into_one_organization(historical_apps(), _SchemaEditor())

    created = Organization.objects.exclude(pk__in=before)
    assert created.count() == 1
    organization = created.get()
    assert (organization.name, organization.reporting_fiat, organization.cost_basis_method,
            organization.cost_basis_lot_scope) == ("Old Books Ltd", "GBP", "uk", "wallet")
    members = {u.username: u.organization_id for u in User.objects.filter(pk__in=ids)}
    assert members == {"eve": organization.pk, "boss": organization.pk, "system": None}


def test_an_empty_installation_gets_no_organization():
    from core.models import Organization

    before = Organization.objects.count()
    migration.existing_users_into_one_organization(historical_apps(), _SchemaEditor())
    assert Organization.objects.count() == before
