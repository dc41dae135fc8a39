"""The main job in a real browser: find the customer, read the diagnosis, fix the stuck trial."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Trial

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "operator-demo"


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")


def confirm_action(page, *, question: str, reason: str) -> None:
    expect(page.locator(".confirm-question")).to_have_text(question)
    page.get_by_label(re.compile("Reason")).fill(reason)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".action-status")).to_contain_text("Succeeded", timeout=30_000)


def health_score(page) -> int:
    return int(page.locator("#health .health-score").inner_text())


def test_stuck_trial_fixed_end_to_end(page, live_server, demo_platform):
    log_in(page, live_server.url)

    page.get_by_role("searchbox").first.fill("john@example.com")
    page.keyboard.press("Enter")
    # A single exact match opens the overview directly.
    expect(page).to_have_url(f"{live_server.url}/customers/cust-123/")

    trial = page.locator('li.trial[data-trial-id="trial-wf-12345"]')
    expect(trial).to_contain_text("STUCK")
    expect(trial).to_contain_text("Step 7/15 (47%)")
    score_before = health_score(page)
    assert score_before < 80

    diagnosis = page.locator("#diagnosis")
    expect(diagnosis).to_contain_text("WowMemory", timeout=20_000)
    expect(diagnosis).to_contain_text("Database connection timeout")
    # The confidence comes from the fitted calibration table, so only its band is fixed here.
    expect(diagnosis).to_contain_text("High")

    diagnosis.get_by_role("link", name="Restart WowMemory").click()
    confirm_action(
        page,
        question="Restart WowMemory for customer cust-123? This will interrupt current operations.",
        reason="Database connection pool exhausted; restarting frees it.",
    )
    expect(page.locator(".quick-action-title")).to_have_text(
        "Restart of WowMemory for customer cust-123 succeeded"
    )
    expect(page.get_by_role("heading", name="Confirm quick action")).to_have_count(0)

    # The restarted agent blocked the trial, so the action page offers its retry next.
    page.get_by_role("link", name="Next: Retry trial-wf-12345 from step 7").click()
    confirm_action(
        page,
        question="Retry workflow trial-wf-12345 for customer cust-123 from step 7 of 15?",
        reason="WowMemory restarted; resuming the trial.",
    )

    page.get_by_role("link", name="Back to John Doe").click()
    expect(page).to_have_url(f"{live_server.url}/customers/cust-123/")
    # The trials and health regions refresh themselves while the trial runs.
    trial = page.locator('li.trial[data-trial-id="trial-wf-12345"]')
    expect(trial).to_contain_text("COMPLETED", timeout=30_000)
    expect(trial).to_contain_text("Step 15/15 (100%)")
    expect(page.locator("#health .health-score")).to_have_text(
        re.compile(r"^(8\d|9\d|100)$"), timeout=30_000
    )
    assert health_score(page) > score_before
    assert Trial.objects.get(trial_id="trial-wf-12345").status == Trial.Status.COMPLETED


def test_confirm_shows_progress_while_running(page, live_server, demo_platform):
    log_in(page, live_server.url)
    # The plain form navigates away when the action finishes, so the state it shows while the
    # request runs is recorded right after the submit, where the next page can read it.
    page.add_init_script(SUBMIT_STATE_RECORDER)
    page.goto(
        f"{live_server.url}/customers/cust-123/actions/retry-workflow/"
        "?workflow_id=trial-wf-12345&from_step=7"
    )

    page.get_by_label(re.compile("Reason")).fill("Checking the progress display.")
    page.get_by_role("button", name="Confirm").click()

    expect(page.locator(".action-status")).to_be_visible(timeout=30_000)
    state = page.evaluate("JSON.parse(sessionStorage.getItem('submitState'))")
    assert state == {"disabled": True, "indicatorShown": True}


SUBMIT_STATE_RECORDER = """
document.addEventListener("submit", function (event) {
  var form = event.target;
  setTimeout(function () {
    var button = form.querySelector("button[type='submit']");
    var indicator = form.querySelector(".htmx-indicator");
    sessionStorage.setItem("submitState", JSON.stringify({
      disabled: button.disabled,
      indicatorShown: getComputedStyle(indicator).display !== "none",
    }));
  }, 0);
});
"""


def test_overview_refreshes_after_panel_actions(page, live_server, demo_platform):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/customers/cust-123/")
    trial = page.locator('li.trial[data-trial-id="trial-wf-12345"]')
    expect(trial).to_contain_text("STUCK")
    panel = page.locator("#quick-actions")
    expect(panel.get_by_role("link", name="Restart WowMemory")).to_be_visible()
    # A region that htmx swaps in is a new element, without this mark.
    page.evaluate(
        "['trials', 'health', 'agents'].forEach(id => document.getElementById(id).dataset.old = 1)"
    )

    panel.get_by_role("link", name="Restart WowMemory").click()
    panel.get_by_label(re.compile("Reason")).fill("Database connection pool exhausted.")
    panel.get_by_role("button", name="Confirm").click()

    expect(panel.locator(".action-status")).to_contain_text("Succeeded", timeout=30_000)
    for region in ("trials", "health", "agents"):
        expect(page.locator(f"#{region}[data-old]")).to_have_count(0)
    expect(panel.locator("#quick-action-list")).to_contain_text("Restart WowMemory")

    panel.get_by_role("link", name="Retry trial-wf-12345 from step 7", exact=True).click()
    panel.get_by_label(re.compile("Reason")).fill("WowMemory restarted; resuming the trial.")
    confirm = panel.get_by_role("button", name="Confirm")
    confirm.click()
    expect(confirm).to_be_disabled()
    expect(panel.get_by_text("Running… this can take a few seconds.")).to_be_visible()

    expect(panel.locator(".action-status")).to_contain_text("Succeeded", timeout=30_000)
    # No reload: the trials region refreshes after the action and polls while the trial runs.
    expect(trial).to_contain_text("COMPLETED", timeout=30_000)
    expect(trial).to_contain_text("Step 15/15 (100%)")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


CSP_VIOLATION_RECORDER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " " + event.sourceFile);
});
"""


def test_timeline_url_follows_filters(page, live_server, demo_world):
    failed_loads = []
    page.on(
        "response", lambda response: response.status >= 400 and failed_loads.append(response.url)
    )
    page.add_init_script(CSP_VIOLATION_RECORDER)
    log_in(page, live_server.url)
    timeline_url = f"{live_server.url}/customers/cust-123/timeline/"
    page.goto(timeline_url)
    entries = page.locator("#timeline-entries > li.entry")

    page.get_by_label("Status").select_option("timeout")
    expect(page).to_have_url(f"{timeline_url}?status=timeout&range=all")
    page.get_by_label("Agent").select_option("WowMemory")
    expect(page).to_have_url(f"{timeline_url}?agent=WowMemory&status=timeout&range=all")
    expect(entries.first).to_have_attribute("data-agent", "WowMemory")

    page.go_back()
    expect(page).to_have_url(f"{timeline_url}?status=timeout&range=all")
    expect(page.get_by_label("Status")).to_have_value("timeout")
    expect(page.get_by_label("Agent")).to_have_value("")
    assert set(entries.evaluate_all("items => items.map(item => item.dataset.status)")) == {
        "timeout"
    }

    page.go_back()
    expect(page).to_have_url(timeline_url)
    expect(page.get_by_label("Status")).to_have_value("")
    assert "success" in entries.evaluate_all("items => items.map(item => item.dataset.status)")

    first = entries.first
    first.get_by_role("link", name="Show logs").click()
    expect(first.locator(".log-lines")).to_be_visible()
    first.locator(".log-details > summary").click()
    expect(first.locator(".log-lines")).to_be_hidden()
    first.locator(".log-details > summary").click()
    expect(first.locator(".log-lines")).to_be_visible()

    assert page.evaluate("window.cspViolations") == []
    assert failed_loads == []
