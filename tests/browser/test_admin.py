"""The admin in a real browser, as a manager whose rights come only from the MANAGER group."""

import re

from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create

PASSWORD = "Quarter!Admin2026"


def organization(name="Acme"):
    from core.models import Organization
    from core.organizations import organization_create

    return Organization.objects.filter(name=name).first() or organization_create(name=name)


def person(username, role=Role.USER, **extra):
    extra.setdefault("organization", organization())
    return user_create(username=username, email=f"{username}@example.test", password=PASSWORD,
                       first_name=username.title(), last_name="Tester", role=role, email_verified=True, **extra)


def log_in(page, live_url, username):
    page.goto(f"{live_url}/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/admin/")


def test_manager_sees_the_branded_users_list_and_is_refused_elsewhere(live_url, page):
    maya = person("maya", Role.MANAGER)
    person("eli", manager=maya, is_verified_by_manager=True)
    person("zed", organization=organization("Elsewhere"))  # another organization's: not in maya's list
    assert not maya.user_permissions.exists()  # every right comes from the group

    log_in(page, live_url, "maya")
    page.goto(f"{live_url}/admin/accounts/user/")
    expect(page).to_have_title(re.compile("Crypto Books"))
    expect(page.get_by_text("Crypto accounting back-office")).to_be_visible()
    rows = page.locator("#result_list")
    expect(rows).to_contain_text("maya")
    expect(rows).to_contain_text("eli")
    expect(rows).not_to_contain_text("zed")
    expect(page.locator('a[href="/admin/wallets/wallet/"]').first).to_be_attached()
    expect(page.locator('a[href="/admin/auth/group/"]')).to_have_count(0)

    for refused in ("/admin/auth/group/", "/admin/wallets/cryptocurrency/add/"):
        response = page.goto(f"{live_url}{refused}")
        assert response.status == 403, refused
