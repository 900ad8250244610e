"""`manage.py create_user --username U --email E --fiat F [--password-stdin]`: a stable command beside
`import_transactions` and `tax_report` (issue 10)."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from core.models import Organization

pytestmark = pytest.mark.django_db


def _create(*args, stdin=None):
    out = io.StringIO()
    call_command("create_user", *args, stdout=out, stderr=io.StringIO(), **({"stdin": stdin} if stdin else {}))
    return out.getvalue()


def test_creates_an_active_verified_user_in_an_organization_of_their_own():
    from ledger.models import FinancialAccount

    out = _create("--username", "alice", "--email", "Alice@Example.test", "--fiat", "gbp")
    user = User.objects.get(username="alice")
    assert user.is_active and user.email_verified and user.email == "alice@example.test"
    assert not user.has_usable_password()  # no --password-stdin
    organization = user.organization
    assert organization.reporting_fiat == "GBP" and organization.name == "alice"
    assert list(organization.members.all()) == [user] and user.role == "ADMIN"
    # Its chart is kept in its reporting fiat (the automatic journals post in it).
    assert set(FinancialAccount.objects.filter(organization=organization).values_list("currency", flat=True)) == {"GBP"}
    assert "created user alice" in out and "GBP" in out


def test_password_from_standard_input():
    _create("--username", "bob", "--email", "bob@example.test", "--fiat", "EUR", "--password-stdin",
            stdin=io.StringIO("Correct-Horse-9-battery\n"))
    user = User.objects.get(username="bob")
    assert user.has_usable_password() and user.check_password("Correct-Horse-9-battery")
    assert user.organization.reporting_fiat == "EUR"


def test_a_weak_or_missing_password_changes_nothing():
    for stdin in ("\n", "123\n"):
        with pytest.raises(CommandError, match="nothing was changed"):
            _create("--username", "carol", "--email", "carol@example.test", "--fiat", "USD", "--password-stdin",
                    stdin=io.StringIO(stdin))
    assert not User.objects.filter(username="carol").exists() and not Organization.objects.exists()


@pytest.mark.parametrize("username, email, message", [
    ("alice", "other@example.test", "a user named 'alice' already exists"),
    ("someone", "ALICE@example.test", "a user with the email 'alice@example.test' already exists"),
])
def test_an_existing_username_or_email_is_an_error_and_changes_nothing(username, email, message):
    _create("--username", "alice", "--email", "alice@example.test", "--fiat", "USD")
    users, organizations = User.objects.count(), Organization.objects.count()
    with pytest.raises(CommandError, match=message) as raised:
        _create("--username", username, "--email", email, "--fiat", "GBP")
    assert raised.value.returncode == 1
    assert (User.objects.count(), Organization.objects.count()) == (users, organizations)
    assert User.objects.get(username="alice").organization.reporting_fiat == "USD"


def test_the_fiat_must_be_a_supported_one():
    from core.currencies import REPORTING_FIATS
    from wallets import koinly_format

    assert koinly_format.FIAT == REPORTING_FIATS  # one list: what the books and the importer accept
    with pytest.raises(CommandError, match="not a supported fiat currency: 'BTC'"):
        _create("--username", "dave", "--email", "dave@example.test", "--fiat", "BTC")
    assert not User.objects.filter(username="dave").exists()
    for fiat in ("USD", "CAD", "JPY"):
        _create("--username", f"u{fiat}", "--email", f"{fiat}@example.test", "--fiat", fiat)
        assert User.objects.get(username=f"u{fiat}").organization.reporting_fiat == fiat


def test_ready_for_import_and_tax_report(tmp_path):
    _create("--username", "erin", "--email", "erin@example.test", "--fiat", "EUR")
    source = tmp_path / "erin.csv"
    source.write_text("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
                      "Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
                      "2024-01-01 10:00:00,1000,EUR,1,ETH,,,,,,,\n2024-02-01 10:00:00,1,ETH,1500,EUR,,,,,,,\n")
    call_command("import_transactions", "--user", "erin", "--format", "universal", str(source), stdout=io.StringIO())
    out = io.StringIO()
    call_command("tax_report", "--user", "erin", "--year", "2024", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines()[1] == "ETH,1,2024-01-01,2024-02-01,1500.00,1000.00,500.00,short"
