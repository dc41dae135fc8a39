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

    page.goto(f"{live_server.url}/customers/cust-123/")
    diagnosis = page.locator("#diagnosis")
    diagnosis.get_by_role("link", name="Retry from Step 7").click()
    confirm_action(
        page,
        question="Retry workflow trial-wf-12345 for customer cust-123 from step 7 of 15?",
        reason="WowMemory restarted; resuming the trial.",
    )

    page.goto(f"{live_server.url}/customers/cust-123/")
    # The trials and health regions refresh themselves while the trial runs.
    trial = page.locator('li.trial[data-trial-id="trial-wf-12345"]')
    expect(trial).to_contain_text("COMPLETED", timeout=30_000)
    expect(trial).to_contain_text("Step 15/15 (100%)")
    expect(page.locator("#health .health-score")).to_have_text(
        re.compile(r"^(8\d|9\d|100)$"), timeout=30_000
    )
    assert health_score(page) > score_before
    assert Trial.objects.get(trial_id="trial-wf-12345").status == Trial.Status.COMPLETED
