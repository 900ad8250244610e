"""reporting/0003: tax reports and stored statements from before organizations move into the
organization of the user who requested them (a statement: its author), else into the oldest
organization (the one accounts/0004 made for the existing users).

The rows are written as raw documents in the old shape (no organization), then the migration's own
function runs with the historical models of that point of the migration."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db

migration = importlib.import_module("reporting.migrations.0003_organizations")


def historical_apps():
    """The models as they are inside 0003 after its AddField steps, before its RunPython."""
    loader = MigrationLoader(connection)
    state = loader.project_state(nodes=[("reporting", "0002_financialstatement"), ("accounts", "0004_organizations"),
                                        ("core", "0002_organizations")], at_end=True)
    operations = migration.Migration.operations
    run_python_at = next(i for i, op in enumerate(operations) if op.__class__.__name__ == "RunPython")
    for operation in operations[:run_python_at]:
        operation.state_forwards("reporting", state)
    return state.apps


class _SchemaEditor:
    connection = connection


def _insert(collection: str, **fields):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    connection.ensure_connection()
    return connection.database[collection].insert_one({"created_at": now, **fields}).inserted_id


def old_report(user):
    day = dt.datetime(2025, 1, 1)
    return _insert("tax_reports", user_id=user.pk, report_type="ANNUAL", start_date=day, end_date=day, method="fifo",
                   lot_scope="all", fiat="USD", status="COMPLETED", error="", taxable_events=0, disposals_preview={},
                   comparison=[], analysis={}, ai_analysis="", warnings=[], file_path="", xlsx_file="", csv_file="")


def old_statement(user):
    return _insert("financial_statements", kind="BALANCE_SHEET", as_of=dt.datetime(2026, 1, 31), comparison=[],
                   currency="USD", include_fair_value=True, statement={}, totals={}, unpriced=[], created_by_id=user.pk)


def test_rows_move_into_their_users_organization_else_the_oldest(organization, make_organization, make_user):
    from accounts.models import User
    from reporting.models import FinancialStatement, TaxReport

    oldest = organization  # "Acme", made first
    other = make_organization("Later Ltd")
    member = make_user(organization=other)
    outside = make_user(organization=oldest)
    User.objects.filter(pk=outside.pk).update(organization=None)  # e.g. the system user
    reports = [old_report(member), old_report(outside)]
    statements = [old_statement(member), old_statement(outside)]

    migration.rows_into_their_organization(historical_apps(), _SchemaEditor())

    assert [TaxReport.objects.get(pk=pk).organization_id for pk in reports] == [other.pk, oldest.pk]
    assert [FinancialStatement.objects.get(pk=pk).organization_id for pk in statements] == [other.pk, oldest.pk]


def test_rows_already_moved_are_left_alone(make_organization, make_user):
    from reporting.models import TaxReport

    acme = make_organization("Later Ltd")
    report_id = old_report(make_user(organization=acme))
    migration.rows_into_their_organization(historical_apps(), _SchemaEditor())
    connection.database["tax_reports"].update_one({"_id": report_id}, {"$set": {"user_id": None}})
    migration.rows_into_their_organization(historical_apps(), _SchemaEditor())  # idempotent
    assert TaxReport.objects.filter(pk=report_id, organization=acme).exists()
