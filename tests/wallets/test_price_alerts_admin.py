"""Price alerts and the price store in the admin: listed, read-only, and a re-arm action."""

from decimal import Decimal

import pytest
from django.utils import timezone

from wallets.models import Cryptocurrency, PriceAlert
from wallets.prices import price_record
from wallets.services import price_alert_create

pytestmark = pytest.mark.django_db


def test_admin_lists_alerts_and_rearms_them(organization, client, make_user):
    admin_user = make_user(role="ADMIN", is_superuser=True)
    owner = make_user()
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    alert = price_alert_create(user=owner, symbol="ETH", direction="above", threshold=Decimal("3000"))
    PriceAlert.objects.filter(pk=alert.pk).update(triggered_at=timezone.now(), last_price=Decimal("3100"))
    price_record(organization=organization, symbol="ETH", price=Decimal("3100"))
    client.force_login(admin_user)

    listing = client.get("/admin/wallets/pricealert/")
    assert listing.status_code == 200 and owner.username in listing.content.decode()
    assert client.get("/admin/wallets/pricealert/add/").status_code == 403
    assert client.get("/admin/wallets/pricequote/").status_code == 200
    assert client.get("/admin/wallets/pricequote/add/").status_code == 403

    response = client.post("/admin/wallets/pricealert/", {"action": "rearm", "_selected_action": [str(alert.pk)]})
    assert response.status_code == 302
    assert PriceAlert.objects.get(pk=alert.pk).triggered_at is None


def test_admin_cannot_rewrite_an_alerts_condition(client, make_user):
    admin_user = make_user(role="ADMIN", is_superuser=True)
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    alert = price_alert_create(user=make_user(), symbol="ETH", direction="above", threshold=Decimal("3000"))
    client.force_login(admin_user)
    client.post(f"/admin/wallets/pricealert/{alert.pk}/change/", {"threshold": "1", "is_active": "on"})
    assert PriceAlert.objects.get(pk=alert.pk).threshold == Decimal("3000")
