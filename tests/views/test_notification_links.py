"""Notifications link to the page a person acts on (issue 11), never the API: given by the caller
or derived from the metadata (the wallet, the send, the journal entry, the booking review); the
notifications page shows them, newest first, and marks them read."""

import pytest
from bson import ObjectId

from accounts.models import Notification
from accounts.notifications import link_from_metadata, notification_create

pytestmark = pytest.mark.django_db


def test_links_are_derived_from_the_metadata(make_user):
    user = make_user()
    wallet, transfer, entry = ObjectId(), ObjectId(), ObjectId()
    cases = [
        ({"wallet_id": str(wallet), "tx_hash": "0xabc"}, f"/app/wallets/{wallet}/", "Open wallet"),
        ({"transfer_id": str(transfer), "wallet_id": str(wallet), "tx_hash": "0xabc"},
         f"/app/wallets/{wallet}/#transfer-{transfer}", "Open the send"),
        ({"journal_entry_id": str(entry)}, f"/app/ledger/entries/{entry}/", "Open journal entry"),
        ({"transaction_id": str(entry)}, f"/app/transactions/{entry}/", "Open transaction"),
        ({"booking_problems": "3"}, "/app/ledger/review/", "Open the booking review"),
        ({"invitation": "x"}, "", ""),
        ({"wallet_id": "not-an-id"}, "", ""),  # no page answers that id: no link rather than a broken one
    ]
    for metadata, url, text in cases:
        notification = notification_create(user=user, title="t", message="m", metadata=metadata)
        assert (notification.action_url, notification.action_text) == (url, text), metadata
        assert not notification.action_url.startswith("/api/")
    explicit = notification_create(user=user, title="t", message="m", action_url="/app/tax-reports/",
                                   action_text="Open tax reports", metadata={"wallet_id": str(wallet)})
    assert explicit.action_url == "/app/tax-reports/"
    assert link_from_metadata(None) == ("", "") and link_from_metadata({"wallet_id": 5}) == ("", "")


def test_the_page_lists_own_notifications_with_their_links_and_marks_them_read(client, make_user):
    user, colleague = make_user(), make_user()
    wallet = ObjectId()
    linked = notification_create(user=user, title="Received 1 ETH", message="from a friend",
                                 metadata={"wallet_id": str(wallet)})
    # stored before notifications carried links: the page still derives one from the metadata
    old = Notification.objects.create(user=user, title="Old send stuck", message="m",
                                      metadata={"transfer_id": "t1", "wallet_id": str(wallet)})
    theirs = notification_create(user=colleague, title="Colleague's note", message="m")
    client.force_login(user)
    html = client.get("/app/notifications/").content.decode()
    assert "Received 1 ETH" in html and "Colleague's note" not in html
    assert f'href="/app/wallets/{wallet}/"' in html and f'href="/app/wallets/{wallet}/#transfer-t1"' in html
    assert 'class="notification-link"' in html and "/api/" not in html.split("<main", 1)[1]
    row = client.post(f"/app/notifications/{linked.pk}/read/", HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "Mark read" not in row.content.decode()
    assert Notification.objects.get(pk=linked.pk).is_read and not Notification.objects.get(pk=old.pk).is_read
    unread = client.get("/app/notifications/", {"unread": "1"}).content.decode()
    assert "Old send stuck" in unread and "Received 1 ETH" not in unread
    assert client.post(f"/app/notifications/{theirs.pk}/read/").status_code == 404
    assert not Notification.objects.get(pk=theirs.pk).is_read


def test_the_page_pages_by_window_without_counting(client, make_user, django_assert_max_num_queries):
    import datetime as dt
    import re

    from django.utils import timezone

    user = make_user()
    for n in range(57):
        notification_create(user=user, title=f"note {n:02d}", message="m",
                            expires_at=timezone.now() - dt.timedelta(minutes=1) if n in (3, 40) else None)
    client.force_login(user)
    with django_assert_max_num_queries(8):  # the session, the person, the time index, the window
        first = client.get("/app/notifications/").content.decode()
    titles = re.findall(r"note (\d\d)", first)
    assert titles == [f"{n:02d}" for n in range(56, 5, -1) if n != 40]  # newest first; expired ones hidden
    cursor = re.search(r'href="\?cursor=([^"&]+)" id="notifications-older"', first).group(1)
    second = client.get("/app/notifications/", {"cursor": cursor}).content.decode()
    assert re.findall(r"note (\d\d)", second) == ["05", "04", "02", "01", "00"]
    assert 'id="notifications-older"' not in second and 'id="notifications-newest"' in second
    # An old page link still reads by offset; a cursor the page did not make shows the newest page.
    assert re.findall(r"note (\d\d)", client.get("/app/notifications/", {"page": "2"}).content.decode()) == \
        ["05", "04", "02", "01", "00"]
    assert client.get("/app/notifications/", {"cursor": "garbage"}).content.decode().count('class="notification-row') == 50
    assert client.get("/app/notifications/", {"page": "x"}).status_code == 200


def test_the_notifications_page_needs_a_login(client):
    assert client.get("/app/notifications/").status_code == 302
