"""The live-operations page in chromium against a real daphne: task runs update in place over the
websocket, without a reload, whether the run is started from the page or by another process."""

from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create
from core import services

PASSWORD = "Quarter!Ops2026"


def log_in_to_live_page(live_url, page):
    """Log in as a manager (ADMIN of her own new organization); returns her."""
    manager = user_create(username="lena", email="lena@example.test", password=PASSWORD, first_name="Lena",
                last_name="Live", role=Role.MANAGER, email_verified=True)
    page.goto(f"{live_url}/app/")
    assert "/app/login/" in page.url  # login required
    page.fill("#id_username", "lena")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/app/")
    # live.js marks the area connected only after the server's "connected" message (auth passed).
    expect(page.locator("#live-area")).to_have_attribute("data-live", "connected")
    page.evaluate("window.__noReloadMarker = 'still-here'")
    return manager


def test_started_run_appears_and_finishes_without_a_reload(live_url, page):
    log_in_to_live_page(live_url, page)
    page.click("#start-collection-stats")
    row = page.locator("tr.task-run", has_text="collection_stats")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "SUCCEEDED")
    expect(row).to_have_attribute("data-progress", "100")
    expect(page.locator("#live-area")).to_have_attribute("data-last-event", "task_run.updated")
    assert page.evaluate("window.__noReloadMarker") == "still-here"


def test_run_written_by_another_process_is_pushed_to_the_page(live_url, page):
    """This test process is not the web server: its writes reach the page only through the outbox,
    daphne's relay, the websocket and the htmx refresh the live event triggers."""
    manager = log_in_to_live_page(live_url, page)
    refreshes = []
    page.on("request", lambda request: refreshes.append(request.url)
            if request.method == "GET" and request.url.endswith("/app/task-runs/") else None)

    run = services.task_run_create(name="nightly_probe", organization_id=manager.organization_id)
    services.task_run_start(task_run_id=run.pk)
    services.task_run_set_progress(task_run_id=run.pk, progress=40, message="4/10")
    services.task_run_log(task_run_id=run.pk, message="wallet 4 of 10 scanned")
    row = page.locator(f'tr.task-run[data-task-run-id="{run.pk}"]')
    expect(row).to_have_attribute("data-status", "RUNNING")
    expect(row).to_have_attribute("data-progress", "40")
    expect(row).to_contain_text("wallet 4 of 10 scanned")

    services.task_run_fail(task_run_id=run.pk, error="node unreachable")
    expect(row).to_have_attribute("data-status", "FAILED")
    assert refreshes, "the rows were not refreshed by live events"
    assert page.evaluate("window.__noReloadMarker") == "still-here"
