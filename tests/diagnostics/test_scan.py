"""The proactive scan: opening, merging, platform-wide mapping, clearing and idempotency."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Agent, Trial
from diagnostics.models import ActiveIssue, ActiveIssueCustomer, Diagnosis, ScanState
from diagnostics.scan import active_issues_scan
from diagnostics.tasks import scan_active_issues
from telemetry.models import Alert, Interaction, LogRecord
from tests.diagnostics.factories import (
    agents_build,
    alert_build,
    failed_call_build,
    healthy_build,
    pool_samples_build,
    story_build,
)
from tests.factories import (
    AgentAssignmentFactory,
    CustomerFactory,
    InteractionFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db

STORY_FINGERPRINT = "db_pool_exhaustion|WowMemory|Database connection timeout after <*>s"


def state_of() -> dict:
    """Return everything the scan writes, to compare two runs."""
    return {
        "issues": list(
            ActiveIssue.objects.order_by("pk").values(
                "issue_id",
                "fingerprint",
                "status",
                "customer_id",
                "severity",
                "first_seen",
                "last_seen",
                "occurrences",
                "customers_affected",
                "trials_affected",
                "latest_diagnosis_id",
                "resolved_at",
            )
        ),
        "links": list(
            ActiveIssueCustomer.objects.order_by("pk").values(
                "issue_id",
                "customer_id",
                "diagnosis_id",
                "first_seen",
                "last_seen",
                "occurrences",
                "trial_ids",
                "cleared_at",
            )
        ),
        "diagnoses": Diagnosis.objects.count(),
    }


def fix_story(customer) -> None:
    """Complete the trial and add a successful call after the timeouts, as a restart would."""
    trial = customer.trials.get()
    trial.status = Trial.Status.COMPLETED
    trial.current_step = 15
    trial.save()
    InteractionFactory(
        customer=customer,
        agent=Agent.objects.get(name="WowMemory"),
        operation="retrieve_context",
        started_at=timezone.now() - timedelta(seconds=30),
    )


def test_scan_opens_story_issue():
    customer = story_build()

    result = active_issues_scan()
    issue = ActiveIssue.objects.get()
    link = issue.affected.get()

    assert result.issues_opened == 1
    assert issue.kind == "db_pool_exhaustion"
    assert issue.component == "WowMemory"
    assert issue.fingerprint == STORY_FINGERPRINT
    assert issue.status == ActiveIssue.Status.OPEN
    assert issue.customer == customer
    assert issue.severity == ActiveIssue.Severity.MAJOR
    assert issue.summary == "Database connection timeout in WowMemory"
    assert issue.confidence == 0.9
    assert issue.customers_affected == 1
    assert issue.trials_affected == 1
    assert issue.occurrences == 4
    assert link.trial_ids == ["trial-wf-12345"]
    assert issue.latest_diagnosis == link.diagnosis
    assert link.diagnosis.kind == "db_pool_exhaustion"


def test_scan_ignores_healthy_customer():
    healthy_build()

    result = active_issues_scan()

    assert result.customers_scanned == 0
    assert ActiveIssue.objects.count() == 0
    assert Diagnosis.objects.count() == 0


def test_scan_twice_same_state():
    story_build()
    story_build(customer_id="cust-456", trial_id="trial-wf-456")
    now = timezone.now()

    active_issues_scan(now=now)
    first = state_of()
    second_result = active_issues_scan(now=now + timedelta(seconds=30))

    assert state_of() == first
    assert second_result.issues_opened == 0
    assert second_result.diagnoses_created == 0
    assert first["diagnoses"] == 2


def test_repeats_merge_into_one():
    customer = story_build()
    active_issues_scan()
    failed_call_build(
        customer=customer,
        agent=Agent.objects.get(name="WowMemory"),
        trial=customer.trials.get(),
        step=7,
        message="Database connection timeout after 31s",
        started_at=timezone.now() - timedelta(seconds=10),
        status=Interaction.Status.TIMEOUT,
    )

    active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert ActiveIssueCustomer.objects.count() == 1
    assert issue.occurrences == 5


def test_platform_wide_maps_every_customer():
    story_build()
    story_build(customer_id="cust-456", trial_id="trial-wf-456")
    memory = Agent.objects.get(name="WowMemory")
    failed_call_build(
        customer=CustomerFactory(customer_id="cust-789"),
        agent=memory,
        message="Database connection timeout after 30s",
        started_at=timezone.now() - timedelta(minutes=2),
        status=Interaction.Status.TIMEOUT,
    )

    active_issues_scan()
    issue = ActiveIssue.objects.get()
    affected = sorted(issue.affected.values_list("customer__customer_id", flat=True))

    assert issue.customer is None
    assert issue.is_platform_wide is True
    assert affected == ["cust-123", "cust-456", "cust-789"]
    assert issue.customers_affected == 3
    assert issue.trials_affected == 2
    assert issue.severity == ActiveIssue.Severity.CRITICAL


def test_fixed_customer_cleared_then_resolved():
    customer = story_build()
    other = story_build(customer_id="cust-456", trial_id="trial-wf-456")
    active_issues_scan()
    fix_story(customer)

    first = active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert first.customers_cleared == 1
    assert issue.status == ActiveIssue.Status.OPEN
    assert issue.customer == other
    assert issue.customers_affected == 1

    fix_story(other)
    second = active_issues_scan()
    issue.refresh_from_db()

    assert second.issues_resolved == 1
    assert issue.status == ActiveIssue.Status.RESOLVED
    assert issue.resolved_at is not None
    assert ActiveIssueCustomer.objects.filter(cleared_at__isnull=True).count() == 0


def test_issue_reopens_when_back():
    customer = story_build()
    active_issues_scan()
    fix_story(customer)
    active_issues_scan()
    customer.trials.update(status=Trial.Status.STUCK)

    active_issues_scan()

    assert ActiveIssue.objects.count() == 1
    assert ActiveIssue.objects.get().status == ActiveIssue.Status.OPEN


def test_separate_fingerprints_separate_issues():
    story_build()
    agents = Agent.objects.in_bulk(field_name="name")
    customer = CustomerFactory(customer_id="cust-rate")
    for minutes in (9, 6, 3):
        failed_call_build(
            customer=customer,
            agent=agents["WowAPI"],
            operation="issue_api_key",
            message="HTTP 429 Too Many Requests",
            started_at=timezone.now() - timedelta(minutes=minutes),
            retry_count=4,
        )

    active_issues_scan()

    assert sorted(ActiveIssue.objects.values_list("kind", flat=True)) == [
        "db_pool_exhaustion",
        "upstream_rate_limit",
    ]
    rate = ActiveIssue.objects.get(kind="upstream_rate_limit")
    assert rate.severity == ActiveIssue.Severity.MAJOR
    assert rate.trials_affected == 0


def test_old_errors_do_not_open():
    agents = agents_build()
    customer = CustomerFactory()
    failed_call_build(
        customer=customer,
        agent=agents["WowAPI"],
        message="HTTP 429 Too Many Requests",
        started_at=timezone.now() - timedelta(hours=2),
    )

    active_issues_scan()

    assert ActiveIssue.objects.count() == 0


def test_scan_limit_bounds_customers(settings):
    settings.HELPDESK_SCAN_CUSTOMER_LIMIT = 1
    story_build()
    story_build(customer_id="cust-456", trial_id="trial-wf-456")

    result = active_issues_scan()

    assert result.customers_scanned == 1


def test_task_skips_within_interval():
    story_build()

    first = scan_active_issues()
    second = scan_active_issues()

    assert first["skipped"] is False
    assert first["issues_opened"] == 1
    assert second["skipped"] is True
    assert second["customers_scanned"] == 0
    assert ScanState.objects.get().last_result == first


# Severity: recency and breadth


def story_age(*, hours: int) -> None:
    """Move the story's evidence `hours` into the past, keeping the trial stuck."""
    then = timezone.now() - timedelta(hours=hours)
    Interaction.objects.update(started_at=then)
    LogRecord.objects.update(timestamp=then)
    Trial.objects.update(started_at=then, last_activity_at=then, step_started_at=then)


def test_old_stuck_story_is_minor():
    story_build()
    story_age(hours=3)

    active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert issue.status == ActiveIssue.Status.OPEN
    assert issue.severity == ActiveIssue.Severity.MINOR


def test_two_customers_major_by_default():
    story_build()
    story_build(customer_id="cust-456", trial_id="trial-wf-456")

    active_issues_scan()

    assert ActiveIssue.objects.get().severity == ActiveIssue.Severity.MAJOR


def test_critical_customer_count_setting(settings):
    settings.HELPDESK_CRITICAL_CUSTOMER_COUNT = 2
    story_build()
    story_build(customer_id="cust-456", trial_id="trial-wf-456")

    active_issues_scan()

    assert ActiveIssue.objects.get().severity == ActiveIssue.Severity.CRITICAL


def test_platform_unhealthy_agent_critical():
    story_build()
    Agent.objects.filter(name="WowMemory").update(status="DEGRADED")

    active_issues_scan()

    assert ActiveIssue.objects.get().severity == ActiveIssue.Severity.CRITICAL


# Failed trials age out


def old_failed_trial_build(*, hours: int):
    customer = CustomerFactory(customer_id="cust-failed")
    return TrialFactory(
        customer=customer,
        status=Trial.Status.FAILED,
        status_detail="Validation failed: malformed payload",
        started_at=timezone.now() - timedelta(hours=hours),
    )


def test_old_failed_trial_opens_nothing():
    old_failed_trial_build(hours=30)

    active_issues_scan()

    assert ActiveIssue.objects.count() == 0


def test_failed_trial_issue_ages_out(settings):
    settings.HELPDESK_FAILED_TRIAL_MAX_AGE_HOURS = 24
    trial = old_failed_trial_build(hours=2)
    active_issues_scan()
    opened = ActiveIssue.objects.get()
    long_ago = timezone.now() - timedelta(hours=25)
    Trial.objects.filter(pk=trial.pk).update(started_at=long_ago, last_activity_at=long_ago)

    active_issues_scan()
    opened.refresh_from_db()

    assert opened.status == ActiveIssue.Status.RESOLVED


# Platform signals


def served_build(*, agent, count: int = 2) -> list:
    customers = [CustomerFactory(customer_id=f"cust-served-{number}") for number in range(count)]
    for customer in customers:
        AgentAssignmentFactory(customer=customer, agent=agent)
    return customers


def test_platform_alert_opens_issue():
    memory = agents_build()["WowMemory"]
    served_build(agent=memory)
    alert_build(
        name="WowMemoryPoolExhausted", agent=memory, summary="Database connection pool exhausted"
    )

    result = active_issues_scan()
    issue = ActiveIssue.objects.get()
    affected = sorted(issue.affected.values_list("customer__customer_id", flat=True))

    assert result.issues_opened == 1
    assert issue.source == ActiveIssue.Source.PLATFORM
    assert issue.customer is None
    assert issue.kind == "db_pool_exhaustion"
    assert issue.component == "WowMemory"
    assert issue.summary == "Database connection pool exhausted on WowMemory"
    assert issue.fingerprint == "db_pool_exhaustion|WowMemory|platform"
    assert issue.severity == ActiveIssue.Severity.CRITICAL
    assert issue.customers_affected == 2
    assert affected == ["cust-served-0", "cust-served-1"]


def test_platform_metric_opens_issue():
    memory = agents_build()["WowMemory"]
    served_build(agent=memory, count=1)
    pool_samples_build(agent=memory, used=95)

    active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert issue.source == ActiveIssue.Source.PLATFORM
    assert issue.customer is None
    assert issue.kind == "db_pool_exhaustion"
    assert issue.customers_affected == 1
    assert issue.severity == ActiveIssue.Severity.CRITICAL


def test_platform_warning_alert_major():
    memory = agents_build()["WowMemory"]
    served_build(agent=memory, count=1)
    alert_build(name="WowMemoryOdd", agent=memory, summary="Something odd", severity="warning")

    active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert issue.kind == "unknown"
    assert issue.summary == "Alert WowMemoryOdd (warning) firing on WowMemory: 'Something odd'"
    assert issue.severity == ActiveIssue.Severity.MAJOR


def test_platform_affected_customers_bounded(settings):
    settings.HELPDESK_PLATFORM_AFFECTED_LIMIT = 1
    memory = agents_build()["WowMemory"]
    served_build(agent=memory, count=3)
    alert_build(name="WowMemoryPoolExhausted", agent=memory, summary="Pool exhausted")

    active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert issue.affected.count() == 1
    assert issue.customers_affected == 3


def test_platform_issue_resolves_when_clear():
    memory = agents_build()["WowMemory"]
    served_build(agent=memory)
    alert = alert_build(name="WowMemoryPoolExhausted", agent=memory, summary="Pool exhausted")
    active_issues_scan()
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.RESOLVED, ends_at=timezone.now())

    result = active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert result.issues_resolved == 1
    assert issue.status == ActiveIssue.Status.RESOLVED
    assert issue.affected.filter(cleared_at__isnull=True).count() == 0


def test_platform_signal_behind_customer_errors():
    story_build()
    pool_samples_build(agent=Agent.objects.get(name="WowMemory"), used=95)

    active_issues_scan()
    issue = ActiveIssue.objects.get()

    assert issue.source == ActiveIssue.Source.CUSTOMERS
    assert issue.customer.customer_id == "cust-123"


def test_platform_scan_twice_same_state():
    memory = agents_build()["WowMemory"]
    served_build(agent=memory)
    alert_build(name="WowMemoryPoolExhausted", agent=memory, summary="Pool exhausted")
    now = timezone.now()

    active_issues_scan(now=now)
    first = state_of()
    second = active_issues_scan(now=now + timedelta(seconds=30))

    assert state_of() == first
    assert second.issues_opened == 0
