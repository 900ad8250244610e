"""A real browser against a real daphne: the admin as a manager, and the HTMX live page."""

import re

from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create

PASSWORD = "Quarter!Browser2026"


def csp_violations(page):
    """Collects CSP violations reported by the browser while the test runs."""
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def manager():
    return user_create(username="maya", email="maya@example.test", password=PASSWORD, first_name="Maya",
                       last_name="Manager", role=Role.MANAGER, email_verified=True)


def test_manager_logs_in_to_the_admin_and_opens_a_changelist(live_url, page):
    manager()
    violations = csp_violations(page)
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
    assert violations == []


def test_live_page_updates_without_a_reload(live_url, page):
    manager()
    violations = csp_violations(page)
    page.goto(f"{live_url}/app/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#live-area")).to_have_attribute("data-live", "connected", timeout=10000)
    page.evaluate("window.__noReloadMarker = 'still-here'")
    page.click("#start-collection-stats")
    expect(page.locator("tr.task-run[data-status=SUCCEEDED]")).to_have_count(1, timeout=15000)
    # The update came over the websocket: the live area saw task-run events.
    expect(page.locator("#live-area")).to_have_attribute("data-last-event", "task_run.updated", timeout=15000)
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    page.click("#start-collection-stats")
    expect(page.locator("tr.task-run[data-status=SUCCEEDED]")).to_have_count(2, timeout=15000)
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    assert violations == []


def test_api_docs_render_under_the_csp(live_url, page):
    violations = csp_violations(page)
    page.goto(f"{live_url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Crypto Books API", timeout=10000)
    assert violations == []


def test_register_verify_login_and_manager_approval(live_url, page, smtp_server):
    """register -> verify email (link from the received mail) -> invited by a manager -> accepts in the
    app -> the manager approves in the queue."""
    from accounts.employees import employee_add_existing
    from accounts.models import User

    boss = manager()
    violations = csp_violations(page)
    smtp_server.clear()
    page.goto(f"{live_url}/app/register/")
    page.fill("#id_username", "nina")
    page.fill("#id_email", "nina@example.test")
    page.fill("#id_first_name", "Nina")
    page.fill("#id_last_name", "North")
    page.fill("#id_password", "Gr33n!Ledger#42")
    page.click("button[type=submit]")
    expect(page.locator("#register-done")).to_be_visible()

    deadline = __import__("time").monotonic() + 10
    while not smtp_server.messages and __import__("time").monotonic() < deadline:
        page.wait_for_timeout(100)
    link = re.search(r"http://\S+/app/verify-email/\?token=\S+", smtp_server.messages[-1].get_payload()).group(0)
    page.goto(live_url + link[link.index("/app/"):])
    expect(page.locator("#verified")).to_be_visible()

    # The manager invites the new user; nothing moves until she accepts in the app.
    employee_add_existing(actor=boss, login="nina")
    assert User.objects.get(username="nina").organization_id != boss.organization_id
    page.goto(f"{live_url}/app/login/")
    page.fill("#id_username", "nina")
    page.fill("#id_password", "Gr33n!Ledger#42")
    page.click("button[type=submit]")
    page.goto(f"{live_url}/app/invitations/")
    page.locator("button", has_text="Accept").first.click()
    expect(page.locator("[id^=answer-]").first).to_contain_text("ccepted")
    assert User.objects.get(username="nina").organization_id == boss.organization_id
    page.goto(f"{live_url}/app/")
    expect(page.locator("#verification-status")).to_have_attribute("data-status", "pending")
    page.click("text=Log out nina")

    page.goto(f"{live_url}/admin/login/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/admin/")
    page.click("text=Verification queue")
    row = page.locator("tr.pending-employee[data-username=nina]")
    expect(row).to_be_visible()
    page.evaluate("window.__noReloadMarker = 'queue'")
    row.locator("text=Approve").click()
    expect(page.locator("tr.pending-employee[data-username=nina]")).to_contain_text("Approved")
    assert page.evaluate("window.__noReloadMarker") == "queue"
    assert User.objects.get(username="nina").is_verified_by_manager
    assert violations == []
