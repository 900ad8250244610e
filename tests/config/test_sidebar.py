"""The admin sidebar (config/unfold.py) asks core.permissions: who sees which item."""

import inspect

import pytest
from django.test import RequestFactory

from config import unfold

pytestmark = pytest.mark.django_db


def visible_titles(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return {item["title"] for group in unfold.UNFOLD["SIDEBAR"]["navigation"] for item in group["items"]
            if "permission" not in item or item["permission"](request)}


def test_the_sidebar_asks_the_rules_module_only():
    source = inspect.getsource(unfold)
    for forbidden in ("ledger_is_staff", '"MANAGER"', '"ADMIN"', "has_perm", "is_staff", ".role"):
        assert forbidden not in source, forbidden


def test_a_manager_sees_books_and_people_but_not_platform_settings(make_user):
    titles = visible_titles(make_user(role="MANAGER"))
    assert {"Task runs", "My team", "Verification queue", "Journal entries", "Trial balance", "Wallets"} <= titles
    assert "Groups" not in titles


def test_a_superuser_also_sees_the_platform_settings(make_user):
    assert "Groups" in visible_titles(make_user(role="ADMIN", is_superuser=True))


@pytest.mark.parametrize("fields", [{"role": "USER"}, {"role": "USER", "is_accountant": True}])
def test_members_who_cannot_open_the_admin_see_nothing_of_it(make_user, fields):
    assert visible_titles(make_user(**fields)) == set()


def test_an_anonymous_request_sees_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert visible_titles(AnonymousUser()) == set()


def test_templates_get_the_rules_of_the_logged_in_user(make_user):
    from django.template import Context, Template

    from core.context_processors import rules

    request = RequestFactory().get("/app/")
    template = Template("{% if rules.can_view_books %}books{% endif %}|{% if rules.can_open_admin %}admin{% endif %}"
                        "|{{ rules.is_staff }}")
    request.user = make_user(role="USER", is_accountant=True)
    assert template.render(Context(rules(request))) == "books||"
    request.user = make_user(role="MANAGER")
    assert template.render(Context(rules(request))) == "books|admin|"


def test_an_item_whose_page_is_gone_is_hidden_not_an_error(make_user):
    item = unfold._item("Gone", "block", "admin:nothing_here_changelist", lambda user: True)
    request = RequestFactory().get("/admin/")
    request.user = make_user(role="MANAGER")
    assert str(item["link"]) == unfold.MISSING_LINK and item["permission"](request) is False


def test_every_item_links_to_a_page(make_user):
    """Catches a sidebar that still names a renamed admin (it would be silently hidden)."""
    missing = [item["title"] for group in unfold.UNFOLD["SIDEBAR"]["navigation"] for item in group["items"]
               if str(item["link"]) == unfold.MISSING_LINK]
    assert missing == []
