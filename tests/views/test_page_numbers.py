"""`?page=` on the back-office list pages is read by one parser (core.windows.page_number): anything
that is not a positive whole number is page 1, and a page whose offset would not fit the database's
64-bit skip is capped instead of reaching the database (it was a 500 on the pages that parsed it
themselves)."""

import pytest

from accounts.models import Role
from core.windows import LAST_PAGE_NUMBER, page_number

pytestmark = pytest.mark.django_db

LIST_PAGES = ("/app/transactions/", "/app/notifications/", "/app/ledger/entries/", "/app/invoices/",
              "/app/contracts/", "/app/classifications/review/")
OVERFLOWING = "9" * 25  # times 50 rows a page, far past 2**63


@pytest.mark.parametrize("value, number", [
    ("1", 1), ("7", 7), ("0", 1), ("-3", 1), ("", 1), (None, 1), ("x", 1), ("2.5", 1), ("1e3", 1),
    (" 4 ", 4), (OVERFLOWING, LAST_PAGE_NUMBER), ("9" * 5000, 1),
])
def test_a_page_number_is_a_positive_whole_number_or_page_one(value, number):
    assert page_number(value) == number


def test_the_cap_keeps_every_offset_within_a_64_bit_skip():
    assert LAST_PAGE_NUMBER * 1000 < 2 ** 63


@pytest.mark.parametrize("path", LIST_PAGES)
def test_every_list_page_answers_any_page_number(client, make_user, path):
    client.force_login(make_user(Role.ADMIN))
    for value in ("0", "-1", "x", OVERFLOWING):
        response = client.get(path, {"page": value})
        assert response.status_code == 200, (path, value, response.status_code)
