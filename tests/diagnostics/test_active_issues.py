"""The active issues API, the dashboard widget and the panel's use of the scan's diagnosis."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Agent
from diagnostics.models import ActiveIssue, Diagnosis
from diagnostics.scan import active_issues_scan
from telemetry.models import Interaction
from tests.diagnostics.factories import failed_call_build, story_build
from tests.factories import CustomerFactory, TrialFactory

pytestmark = pytest.mark.django_db

API_URL = "/api/platform/helpdesk/active-issues"
HTMX = {"HX-Request": "true"}


def platform_wide_build() -> None:
    story_build()
    failed_call_build(
        customer=CustomerFactory(customer_id="cust-789", name="Ana Lopez"),
        agent=Agent.objects.get(name="WowMemory"),
        message="Database connection timeout after 30s",
        started_at=timezone.now() - timedelta(minutes=1),
        status=Interaction.Status.TIMEOUT,
    )


def test_api_lists_open_issue(operator_client):
    story_build()
    active_issues_scan()
    issue = ActiveIssue.objects.get()

    response = operator_client.get(API_URL)
    body = response.json()
    listed = body["active_issues"][0]

    assert response.status_code == 200
    assert body["count"] == 1
    assert body["last_scan_at"] is not None
    assert listed["issue_id"] == issue.issue_id
    assert listed["kind"] == "db_pool_exhaustion"
    assert listed["title"] == "Database connection pool exhausted"
    assert listed["component"] == "WowMemory"
    assert listed["summary"] == "Database connection timeout in WowMemory"
    assert listed["severity"] == "major"
    assert listed["scope"] == "customer"
    assert listed["customer_id"] == "cust-123"
    assert listed["customers_affected"] == 1
    assert listed["trials_affected"] == 1
    assert listed["first_seen"] == issue.first_seen.isoformat()
    assert listed["last_seen"] == issue.last_seen.isoformat()
    assert listed["diagnosis_id"] == issue.latest_diagnosis.diagnosis_id
    assert listed["url"] == "/customers/cust-123/#diagnosis"
    assert listed["affected_customers"][0]["trial_ids"] == ["trial-wf-12345"]


def test_api_platform_wide_newest_first(operator_client):
    platform_wide_build()
    active_issues_scan()

    listed = operator_client.get(API_URL).json()["active_issues"][0]

    assert listed["scope"] == "platform"
    assert listed["customer_id"] is None
    assert listed["customers_affected"] == 2
    assert [entry["customer_id"] for entry in listed["affected_customers"]] == [
        "cust-789",
        "cust-123",
    ]
    assert listed["url"] == "/customers/cust-789/#diagnosis"


def test_api_filters_by_customer(operator_client):
    platform_wide_build()
    active_issues_scan()

    found = operator_client.get(API_URL, {"customer_id": "cust-789"}).json()
    missing = operator_client.get(API_URL, {"customer_id": "cust-none"}).json()

    assert found["count"] == 1
    assert missing["count"] == 0


def test_api_omits_resolved(operator_client):
    story_build()
    active_issues_scan()
    ActiveIssue.objects.update(status=ActiveIssue.Status.RESOLVED, resolved_at=timezone.now())

    body = operator_client.get(API_URL).json()

    assert body["count"] == 0
    assert body["active_issues"] == []


def test_api_rejects_bad_limit(operator_client):
    response = operator_client.get(API_URL, {"limit": 0})

    assert response.status_code == 422
    assert response.json() == {"message": "limit 0 is out of range: use 1 to 200.", "errors": []}


def test_api_requires_authentication(client):
    response = client.get(API_URL)

    assert response.status_code == 401


def test_widget_partial_shows_issue(operator_client):
    platform_wide_build()
    active_issues_scan()
    issue = ActiveIssue.objects.get()

    response = operator_client.get("/", headers=HTMX)
    html = response.content.decode()

    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="active-issues"')
    assert 'hx-trigger="every 15s"' in html
    assert f'data-issue-id="{issue.issue_id}"' in html
    assert "Database connection timeout in WowMemory" in html
    assert "platform-wide" in html
    assert "2 customers, 1 trial, 5 occurrences" in html
    assert 'href="/customers/cust-789/#diagnosis"' in html
    assert 'href="/customers/cust-123/#diagnosis"' in html
    assert '<span class="count">1</span>' in html


def test_widget_keeps_uncovered_trials(operator_client):
    story_build()
    active_issues_scan()
    other = CustomerFactory(customer_id="cust-failed", name="Failed Only")
    TrialFactory(customer=other, status="FAILED", status_detail="Step failed")

    html = operator_client.get("/", headers=HTMX).content.decode()

    assert "Failed Only" in html
    assert 'href="/customers/cust-123/"' not in html
    assert 'href="/customers/cust-failed/"' in html
    assert '<span class="count">2</span>' in html


def test_widget_escapes_hostile_summary(operator_client):
    story_build()
    active_issues_scan()
    ActiveIssue.objects.update(summary="<script>alert(1)</script>")

    html = operator_client.get("/", headers=HTMX).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_panel_shows_scan_diagnosis(operator_client):
    story_build()
    active_issues_scan()
    issue = ActiveIssue.objects.get()
    Diagnosis.objects.update(created_at=timezone.now() - timedelta(minutes=8))

    html = operator_client.get(
        reverse("diagnosis-panel", kwargs={"customer_id": "cust-123"}), headers=HTMX
    ).content.decode()

    assert Diagnosis.objects.count() == 1
    assert issue.latest_diagnosis.diagnosis_id in html
    assert f'data-issue-id="{issue.issue_id}"' in html
    assert "found by the proactive scan" in html


def blocked_customers_build(count: int) -> None:
    for number in range(count):
        customer = CustomerFactory(customer_id=f"cust-blocked-{number:03d}")
        TrialFactory(customer=customer, status="STUCK", status_detail="Waiting on step 4")


def test_widget_badge_shows_true_total(operator_client):
    blocked_customers_build(60)

    html = operator_client.get("/", headers=HTMX).content.decode()

    assert '<span class="count">60</span>' in html
    assert "Showing 50 of 60." in html
    assert '<a href="/issues/">See all active issues</a>' in html
    assert html.count('class="issue-customer"') == 50


def test_widget_no_note_when_complete(operator_client):
    blocked_customers_build(3)

    html = operator_client.get("/", headers=HTMX).content.decode()

    assert '<span class="count">3</span>' in html
    assert "Showing" not in html


def test_widget_omits_old_failures(operator_client, settings):
    settings.HELPDESK_FAILED_TRIAL_MAX_AGE_HOURS = 24
    long_ago = timezone.now() - timedelta(hours=30)
    TrialFactory(
        customer=CustomerFactory(customer_id="cust-old-failure"),
        status="FAILED",
        started_at=long_ago,
    )

    html = operator_client.get("/", headers=HTMX).content.decode()

    assert "cust-old-failure" not in html
    assert "No customer has a stuck or failed trial." in html


def test_all_issues_page_paginates(operator_client):
    blocked_customers_build(30)

    first = operator_client.get("/issues/").content.decode()
    second = operator_client.get("/issues/", {"trials_page": 2}).content.decode()

    assert first.count('class="issue-customer"') == 25
    assert "Page 1 of 2" in first
    assert 'href="?page=1&amp;trials_page=2"' in first
    assert second.count('class="issue-customer"') == 5
    assert "Page 2 of 2" in second


def test_all_issues_page_lists_scan_issues(operator_client):
    story_build()
    active_issues_scan()
    issue = ActiveIssue.objects.get()

    html = operator_client.get("/issues/").content.decode()

    assert f'data-issue-id="{issue.issue_id}"' in html
    assert "Found by the proactive scan <span" in html


def test_all_issues_page_requires_login(client):
    response = client.get("/issues/")

    assert response.status_code == 302
