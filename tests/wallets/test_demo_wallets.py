"""wallets.demo on its own (the people made here as accounts.demo makes them): the company's wallets
and history in the company's organization, one wallet of the outside client in its own, idempotent;
without the client its part is skipped with a reason."""

import pytest

from core.demo import DemoReport
from wallets import demo
from wallets.models import PriceQuote, Transaction, Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, make_organization, eth_node):
    company = make_organization("Demo Books Ltd")
    staff = {name: make_user(username=name, role=role, organization=company)
             for name, role in (("admin", "ADMIN"), ("manager", "MANAGER"), ("employee1", "USER"),
                                ("employee2", "USER"))}
    return company, staff


def test_company_and_client_wallets_are_in_their_own_organizations(people, make_user, make_organization):
    company, staff = people
    orbit = make_organization("Orbit Analytics")
    client = make_user(username="client", role="ADMIN", organization=orbit)
    report = DemoReport()
    demo.load(report)
    company_wallets = Wallet.objects.for_organization(company.pk)
    assert sorted(w.user.username for w in company_wallets.select_related("user")) == [
        "employee1", "employee2", "manager"]
    client_wallets = list(Wallet.objects.for_organization(orbit.pk))
    assert [w.user_id for w in client_wallets] == [client.pk]
    client_rows = Transaction.objects.for_organization(orbit.pk)
    assert client_rows.filter(source="demo").count() == len(demo.CLIENT_HISTORY)
    assert set(client_rows.values_list("wallet_id", flat=True)) == {client_wallets[0].pk}
    assert not Transaction.objects.for_organization(company.pk).filter(wallet=client_wallets[0]).exists()
    assert set(Transaction.objects.values_list("organization_id", flat=True)) == {company.pk, orbit.pk}
    assert not PriceQuote.objects.exclude(organization=None).exists()  # the demo's prices are shared
    before = (Wallet.objects.count(), Transaction.objects.count(), PriceQuote.objects.count())
    demo.load(DemoReport())
    assert (Wallet.objects.count(), Transaction.objects.count(), PriceQuote.objects.count()) == before


def test_without_the_client_its_wallet_is_skipped_with_a_reason(people):
    report = DemoReport()
    demo.load(report)
    assert any("client" in reason for reason in report.skipped)
    assert Wallet.objects.count() == 3
