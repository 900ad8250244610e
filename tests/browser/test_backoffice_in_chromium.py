"""A real browser against a real daphne: the admin as a manager, and the HTMX live page."""

import re

from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create

PASSWORD = "Manager!Browser2026"


def manager():
    return user_create(username="maya", email="maya@example.test", password=PASSWORD, first_name="Maya",
                       last_name="Manager", role=Role.MANAGER, email_verified=True)


def test_manager_logs_in_to_the_admin_and_opens_a_changelist(live_url, page):
    manager()
    page.goto(f"{live_url}/admin/login/")
    assert "/app/login/" in page.url  # one login, with the lockout and verification rules
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/admin/")
    page.goto(f"{live_url}/admin/accounts/user/")
    expect(page).to_have_title(re.compile("Crypto Books"))
    expect(page.locator("#result_list")).to_contain_text("maya")
    expect(page.get_by_text("Crypto accounting back-office")).to_be_visible()
    response = page.goto(f"{live_url}/admin/auth/group/")
    assert response.status == 403


def test_live_page_updates_without_a_reload(live_url, page):
    manager()
    page.goto(f"{live_url}/app/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#live-area")).to_have_attribute("data-live", "connected", timeout=10000)
    page.evaluate("window.__noReloadMarker = 'still-here'")
    page.click("#start-collection-stats")
    expect(page.locator("tr.task-run[data-status=SUCCEEDED]")).to_have_count(1, timeout=15000)
    # The update came over the websocket: the live area saw task-run events.
    expect(page.locator("#live-area")).to_have_attribute("data-last-event", "task_run.updated")
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    page.click("#start-collection-stats")
    expect(page.locator("tr.task-run[data-status=SUCCEEDED]")).to_have_count(2, timeout=15000)
    assert page.evaluate("window.__noReloadMarker") == "still-here"
