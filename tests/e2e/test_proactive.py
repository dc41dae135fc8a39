"""Proactive monitoring in a real browser: a fault becomes an active issue on the dashboard."""

import time

import pytest
import requests
from playwright.sync_api import expect

from customers.models import Trial
from diagnostics.models import ActiveIssueCustomer
from diagnostics.tasks import scan_active_issues
from telemetry.models import Interaction
from tests.e2e.conftest import DEMO_CONTROL_TOKEN
from tests.e2e.test_main_job import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTH = {"Authorization": f"Bearer {DEMO_CONTROL_TOKEN}"}
# WowMemory's retrieve_context, which the pool fault breaks, runs at step 7.
FAULT_STEP = 7


def trial_passing_fault_step(platform_url: str) -> Trial:
    """Return a trial that, retried from step 1, reaches step 7 before any fault it already has.

    That is a running trial, or one blocked after step 7, such as by the WowAPI rate limit.
    """
    trials = Trial.objects.exclude(status=Trial.Status.COMPLETED).exclude(
        customer__customer_id="cust-123"
    )
    for trial in trials.order_by("trial_id"):
        workflow = requests.get(
            f"{platform_url}/v1/workflows/{trial.trial_id}", headers=AUTH, timeout=5
        ).json()
        if workflow.get("status") == "RUNNING" or workflow.get("current_step", 0) > FAULT_STEP:
            return trial
    pytest.fail("The demo world has no trial that a retry would run through step 7")


def wait_for_stuck_trial(trial_id: str, *, timeout_seconds: float) -> Trial:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        trial = Trial.objects.get(trial_id=trial_id)
        timed_out = Interaction.objects.filter(
            trial=trial, status=Interaction.Status.TIMEOUT
        ).exists()
        if trial.status == Trial.Status.STUCK and timed_out:
            return trial
        time.sleep(0.5)
    pytest.fail(f"Trial {trial_id} did not get stuck at step 7 within {timeout_seconds} s")


def test_fault_appears_as_active_issue(page, live_server, demo_platform, settings):
    # Each task call below must run rather than skip as too soon after the previous one.
    settings.HELPDESK_SCAN_INTERVAL_SECONDS = 1
    scan_active_issues.apply().get()
    trial = trial_passing_fault_step(demo_platform)
    customer_id = trial.customer.customer_id
    log_in(page, live_server.url)
    widget = page.locator("#active-issues")
    expect(widget).to_be_visible()
    pool_issue_customer = widget.locator(
        f'[data-issue-kind="db_pool_exhaustion"] a[data-customer-id="{customer_id}"]'
    )
    expect(pool_issue_customer).to_have_count(0)
    page.evaluate("window.loadedOnce = true")

    injected = requests.post(
        f"{demo_platform}/v1/faults",
        json={"kind": "db_pool_exhausted", "customer_id": customer_id},
        headers=AUTH,
        timeout=5,
    )
    # The retry replays the trial at retry pace, so it reaches the broken step in seconds.
    retried = requests.post(
        f"{demo_platform}/v1/workflows/{trial.trial_id}/retry",
        json={"from_step": 1},
        headers=AUTH,
        timeout=5,
    )
    stuck = wait_for_stuck_trial(trial.trial_id, timeout_seconds=30)
    time.sleep(1)
    scanned = scan_active_issues.apply().get()

    assert injected.status_code == 201
    assert retried.status_code == 202
    assert stuck.current_step == FAULT_STEP
    assert scanned["skipped"] is False
    link = ActiveIssueCustomer.objects.select_related("issue", "diagnosis").get(
        customer__customer_id=customer_id, cleared_at__isnull=True
    )
    assert link.issue.kind == "db_pool_exhaustion"
    assert link.issue.component == "WowMemory"

    # The widget polls every 15 s: the issue shows up without a reload.
    expect(pool_issue_customer).to_be_visible(timeout=25_000)
    customer_link = pool_issue_customer
    issue_row = widget.locator(f'[data-issue-id="{link.issue.issue_id}"]')
    expect(issue_row).to_contain_text("Database connection timeout in WowMemory")
    assert page.evaluate("window.loadedOnce") is True
    assert page.url == f"{live_server.url}/"

    customer_link.click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer_id}/#diagnosis")
    diagnosis = page.locator("#diagnosis")
    expect(diagnosis).to_contain_text(link.diagnosis.diagnosis_id, timeout=20_000)
    expect(diagnosis).to_contain_text("Database connection timeout in WowMemory")
    expect(diagnosis).to_contain_text(f"{trial.trial_id} at Step 7")
    expect(diagnosis).to_contain_text("found by the proactive scan")


def wait_for_trial_status(trial_id: str, status: str, *, timeout_seconds: float) -> Trial:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        trial = Trial.objects.get(trial_id=trial_id)
        if trial.status == status:
            return trial
        time.sleep(0.5)
    pytest.fail(f"Trial {trial_id} did not reach {status} within {timeout_seconds} s")


def test_fixed_story_shows_resolved(page, live_server, demo_platform):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/customers/cust-123/")
    diagnosis = page.locator("#diagnosis")
    expect(diagnosis).to_contain_text("Database connection timeout in WowMemory", timeout=20_000)
    expect(diagnosis.locator(".step-quick-action")).to_have_count(2)

    restarted = requests.post(
        f"{demo_platform}/v1/customers/cust-123/agents/WowMemory/restart",
        json={"reason": "Clear the exhausted connection pool"},
        headers=AUTH,
        timeout=10,
    )
    retried = requests.post(
        f"{demo_platform}/v1/workflows/trial-wf-12345/retry",
        json={"from_step": FAULT_STEP},
        headers=AUTH,
        timeout=5,
    )
    completed = wait_for_trial_status("trial-wf-12345", Trial.Status.COMPLETED, timeout_seconds=60)
    page.reload()

    assert restarted.status_code == 200
    assert retried.status_code == 202
    assert completed.current_step == completed.total_steps
    expect(diagnosis).to_contain_text(
        "Resolved: WowMemory recovered after a restart at", timeout=20_000
    )
    expect(diagnosis).to_contain_text("trial-wf-12345 completed")
    expect(diagnosis).to_contain_text("Past cause")
    expect(diagnosis.get_by_role("button", name="Mark resolved")).to_be_visible()
    expect(diagnosis.locator(".step-quick-action")).to_have_count(0)
