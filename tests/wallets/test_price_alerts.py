"""Price alerts: owner-scoped endpoints under /api/exchange-rates/alerts/, and the periodic check
that fires each crossed alert exactly once (notification + websocket event after commit) until it
is re-armed."""

from decimal import Decimal

import pytest

from accounts.models import Notification
from core.models import RealtimeEvent
from core.realtime import user_group
from wallets.models import Cryptocurrency, PriceAlert
from wallets.prices import price_record
from wallets.services import price_alert_create, price_alert_fire, price_alerts_check
from wallets.tasks import price_alerts_check as price_alerts_task

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def api(client, make_user, access_token_for, settings):
    settings.PRICE_API_BASE_URL = ""
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Cryptocurrency.objects.create(name="Demo Dollar", symbol="DUSD", decimals=6)

    def as_user(user):
        token = access_token_for(user)

        def call(method, path, data=None):
            return getattr(client, method)(path, data, content_type="application/json",
                                           HTTP_AUTHORIZATION=f"Bearer {token}")
        return call

    return make_user, as_user


def create(call, **fields):
    response = call("post", "/api/exchange-rates/alerts/",
                    {"asset": "eth", "direction": "above", "threshold": "3000", **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_list_detail_and_delete(api):
    make_user, as_user = api
    call = as_user(make_user())
    alert = create(call, threshold="3000.5")
    assert (alert["asset"], alert["direction"], D(alert["threshold"]), alert["fiat"]) == ("ETH", "above", D("3000.5"),
                                                                                         "USD")
    assert alert["is_active"] and alert["triggered_at"] is None
    assert [a["id"] for a in call("get", "/api/exchange-rates/alerts/").json()["items"]] == [alert["id"]]
    assert call("get", f"/api/exchange-rates/alerts/{alert['id']}/").json()["id"] == alert["id"]
    assert call("delete", f"/api/exchange-rates/alerts/{alert['id']}/").status_code == 200
    assert not PriceAlert.objects.exists()


def test_alert_list_queries_do_not_grow_with_rows(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_user, as_user = api
    user = make_user()
    call = as_user(user)

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = call("get", "/api/exchange-rates/alerts/?limit=50")
        assert response.status_code == 200
        return len(captured.captured_queries), len(response.json()["items"])

    for n in range(2):
        price_alert_create(user=user, symbol="ETH", direction="above", threshold=D(1000 + n))
    few, rows = count()
    for n in range(20):
        price_alert_create(user=user, symbol="DUSD", direction="below", threshold=D("0.9"))
    assert rows == 2 and count() == (few, 22)


def test_another_users_alert_is_not_found(api):
    make_user, as_user = api
    owner, stranger = as_user(make_user()), as_user(make_user())
    alert = create(owner)
    for method, data in (("get", None), ("put", {"threshold": "1"}), ("delete", None)):
        response = stranger(method, f"/api/exchange-rates/alerts/{alert['id']}/", data)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert stranger("get", "/api/exchange-rates/alerts/").json()["items"] == []
    assert PriceAlert.objects.get().threshold == D("3000")
    assert owner("get", "/api/exchange-rates/alerts/not-an-id/").status_code == 404


@pytest.mark.parametrize("change", [{"direction": "sideways"}, {"threshold": "-1"}, {"threshold": "0"},
                                    {"threshold": "abc"}, {"threshold": "1.123456789"}, {"asset": "NOPE"},
                                    {"fiat": "US"}, {"fiat": "U$D"}, {"extra": 1}])
def test_bad_alerts_are_refused_and_nothing_is_written(api, change):
    make_user, as_user = api
    call = as_user(make_user())
    response = call("post", "/api/exchange-rates/alerts/",
                    {"asset": "ETH", "direction": "above", "threshold": "3000", **change})
    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not PriceAlert.objects.exists()


def test_bad_update_changes_nothing(api):
    make_user, as_user = api
    call = as_user(make_user())
    alert = create(call)
    response = call("put", f"/api/exchange-rates/alerts/{alert['id']}/", {"threshold": "2000", "asset": "NOPE"})
    assert response.status_code == 422
    assert PriceAlert.objects.get().threshold == D("3000")


def test_fires_once_when_crossed_with_a_notification_after_commit(organization, api):
    make_user, as_user = api
    user = make_user()
    call = as_user(user)
    alert = create(call, threshold="3000")
    price_record(organization=organization, symbol="ETH", price=D("2999.99"))
    assert price_alerts_check()["fired"] == 0
    assert not Notification.objects.exists()
    assert D(call("get", f"/api/exchange-rates/alerts/{alert['id']}/").json()["last_price"]) == D("2999.99")

    price_record(organization=organization, symbol="ETH", price=D("3000"))  # "above" includes the threshold itself
    assert price_alerts_check()["fired"] == 1
    notification = Notification.objects.get(user=user)
    assert "ETH is above $3,000.00" in notification.title and "$3,000.00" in notification.message
    assert notification.metadata["price_alert_id"] == alert["id"]
    event = RealtimeEvent.objects.get(group=user_group(user.pk), event_type="notification.created")
    assert event.payload["id"] == str(notification.pk)
    fired = call("get", f"/api/exchange-rates/alerts/{alert['id']}/").json()
    assert fired["triggered_at"] is not None and D(fired["last_price"]) == D("3000")

    price_record(organization=organization, symbol="ETH", price=D("3100"))
    assert price_alerts_check()["fired"] == 0
    assert price_alerts_task.call_local()["fired"] == 0  # the periodic huey task, same rule
    assert Notification.objects.filter(user=user).count() == 1


def test_above_and_below(organization, api):
    make_user, as_user = api
    user = make_user()
    call = as_user(user)
    above = create(call, threshold="2500")
    below = create(call, direction="below", threshold="2000")
    low_dollar = create(call, asset="DUSD", direction="below", threshold="0.99")
    price_record(organization=organization, symbol="ETH", price=D("2200"))
    price_record(organization=organization, symbol="DUSD", price=D("0.98"))
    assert price_alerts_check()["fired"] == 1
    assert PriceAlert.objects.get(pk=low_dollar["id"]).triggered_at is not None
    assert PriceAlert.objects.filter(pk__in=[above["id"], below["id"]], triggered_at=None).count() == 2

    price_record(organization=organization, symbol="ETH", price=D("1999"))
    assert price_alerts_check()["fired"] == 1
    assert PriceAlert.objects.get(pk=below["id"]).triggered_at is not None
    assert PriceAlert.objects.get(pk=above["id"]).triggered_at is None


def test_alerts_without_a_price_or_inactive_do_not_fire(organization, api):
    make_user, as_user = api
    call = as_user(make_user())
    create(call, asset="DUSD", direction="below", threshold="5")  # DUSD has no price at all
    paused = create(call, threshold="10")
    assert call("put", f"/api/exchange-rates/alerts/{paused['id']}/", {"is_active": False}).json()["is_active"] is False
    price_record(organization=organization, symbol="ETH", price=D("3000"))
    assert price_alerts_check() == {"armed": 1, "fired": 0, "unpriced": 1}
    assert not Notification.objects.exists()


def test_rearm_fires_again_and_a_new_condition_rearms(organization, api):
    make_user, as_user = api
    user = make_user()
    call = as_user(user)
    alert = create(call, threshold="3000")
    price_record(organization=organization, symbol="ETH", price=D("3200"))
    assert price_alerts_check()["fired"] == 1
    rearmed = call("put", f"/api/exchange-rates/alerts/{alert['id']}/", {"rearm": True}).json()
    assert rearmed["triggered_at"] is None
    assert price_alerts_check()["fired"] == 1
    assert Notification.objects.filter(user=user).count() == 2

    changed = call("put", f"/api/exchange-rates/alerts/{alert['id']}/", {"threshold": "3500"}).json()
    assert changed["triggered_at"] is None and D(changed["threshold"]) == D("3500")
    assert price_alerts_check()["fired"] == 0  # 3200 is below the new threshold
    unchanged = call("put", f"/api/exchange-rates/alerts/{alert['id']}/", {"threshold": "3000"}).json()
    assert price_alerts_check()["fired"] == 1 and unchanged["triggered_at"] is None
    again = call("put", f"/api/exchange-rates/alerts/{alert['id']}/", {"threshold": "3000"}).json()
    assert again["triggered_at"] is not None  # same condition, no rearm: stays fired
    assert price_alerts_check()["fired"] == 0


def test_a_second_checker_cannot_fire_an_alert_again(api):
    """The exactly-once rule itself: two checkers holding the same armed alert; only one fires it."""
    make_user, _ = api
    user = make_user()
    alert = price_alert_create(user=user, symbol="ETH", direction="above", threshold=D("1"))
    first, second = PriceAlert.objects.get(pk=alert.pk), PriceAlert.objects.get(pk=alert.pk)
    assert price_alert_fire(alert=first, price=D("2")) is True
    assert second.triggered_at is None  # the second checker's copy still looks armed
    assert price_alert_fire(alert=second, price=D("3")) is False
    assert Notification.objects.filter(user=user).count() == 1
    assert PriceAlert.objects.get(pk=alert.pk).last_price == D("2")
