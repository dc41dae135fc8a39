"""Detectors of change: metric thresholds and shifts, alerts, log templates, latency, deploys."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Trial
from diagnostics.detectors import Signal, findings_detect
from diagnostics.evidence import evidence_collect
from diagnostics.reasoning import diagnose_snapshot
from tests.diagnostics.factories import (
    agents_build,
    alert_build,
    failed_call_build,
    metric_sample_build,
    pool_samples_build,
    story_build,
    template_logs_build,
)
from tests.factories import CustomerFactory, InteractionFactory, TrialFactory

pytestmark = pytest.mark.django_db


def findings_of(customer, signal: Signal) -> list:
    snapshot = evidence_collect(customer=customer)
    return [finding for finding in findings_detect(snapshot=snapshot) if finding.signal == signal]


def test_pool_metric_over_threshold():
    customer = story_build()
    memory = customer.assignments.get(agent__name="WowMemory").agent
    pool_samples_build(agent=memory, used=95)

    result = diagnose_snapshot(evidence_collect(customer=customer))

    assert result["kind"] == "db_pool_exhaustion"
    assert result["root_cause"]["confidence"] == 0.97
    assert result["root_cause"]["evidence"][0] == (
        "Database connections: 95/100 (95%) on WowMemory"
    )
    assert result["root_cause"]["cause"]["evidence"] == (
        "Database connections: 95/100 (95%) on WowMemory"
    )
    assert result["resolution_steps"][0]["result"] == (
        "Database connections: 95/100 (95%) on WowMemory (degraded)"
    )


def test_pool_metric_below_threshold():
    agents = agents_build()
    customer = CustomerFactory()
    pool_samples_build(agent=agents["WowMemory"], used=79)

    assert findings_of(customer, Signal.METRIC_SATURATION) == []


def test_pool_metric_shift_against_baseline():
    agents = agents_build()
    customer = CustomerFactory()
    memory = agents["WowMemory"]
    for hours in (3, 6, 12):
        pool_samples_build(agent=memory, used=30, timestamp=timezone.now() - timedelta(hours=hours))
    pool_samples_build(agent=memory, used=70)

    shifts = findings_of(customer, Signal.METRIC_SHIFT)

    assert [finding.text for finding in shifts] == [
        "Database connections on WowMemory: 70 now, 30 on average over the previous 24 hours "
        "(+133%)"
    ]
    assert findings_of(customer, Signal.METRIC_SATURATION) == []


def test_queue_over_limit_names_backlog():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    TrialFactory(
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=6,
        started_at=now - timedelta(minutes=20),
        step_started_at=now - timedelta(minutes=12),
        last_activity_at=now - timedelta(minutes=12),
    )
    queue = {"messaging.destination.name": "orchestration.tasks"}
    for name, value in (("messaging.queue.capacity", 100), ("messaging.queue.depth", 250)):
        metric_sample_build(
            name=name,
            agent=agents["WowOrchestrator"],
            value=value,
            timestamp=now - timedelta(minutes=1),
            attributes=queue,
            series=name,
        )

    result = diagnose_snapshot(evidence_collect(customer=customer))

    assert result["kind"] == "queue_backlog"
    assert result["root_cause"]["affected_component"] == "WowOrchestrator"
    assert result["root_cause"]["confidence"] == 0.9
    assert result["root_cause"]["cause"]["evidence"] == (
        "Queue pending messages: 250/100 (250%) on WowOrchestrator"
    )


def test_firing_alert_becomes_evidence():
    agents = agents_build()
    customer = story_build(customer_id="cust-alert", trial_id="trial-alert")
    alert_build(
        name="DatabasePoolExhausted",
        agent=agents["WowMemory"],
        summary="WowMemory pool 95% in use",
    )

    alerts = findings_of(customer, Signal.ALERT)
    result = diagnose_snapshot(evidence_collect(customer=customer))

    assert [finding.text for finding in alerts] == [
        "Alert DatabasePoolExhausted (critical) firing on WowMemory: 'WowMemory pool 95% in use'"
    ]
    assert result["kind"] == "db_pool_exhaustion"
    assert result["root_cause"]["cause"]["evidence"] == alerts[0].text


def test_new_error_template_found():
    agents = agents_build()
    customer = CustomerFactory()
    now = timezone.now()
    template_logs_build(
        customer=customer,
        agent_name="WowAPI",
        template="ImportError: cannot import name <*>",
        body="ImportError: cannot import name 'PlanV2'",
        times=[now - timedelta(minutes=minutes) for minutes in (20, 10, 5)],
    )
    assert agents["WowAPI"].name == "WowAPI"

    findings = findings_of(customer, Signal.TEMPLATE_NEW)

    assert [finding.text for finding in findings] == [
        "New error log template in WowAPI: 'ImportError: cannot import name <*>' "
        "(3 records in the last hour, none in the 23 hours before)"
    ]
    assert findings_of(customer, Signal.TEMPLATE_BURST) == []


def test_error_template_burst_found():
    agents_build()
    customer = CustomerFactory()
    now = timezone.now()
    template = "Cache miss storm on segment <*>"
    template_logs_build(
        customer=customer,
        agent_name="WowCache",
        template=template,
        body="Cache miss storm on segment seg-1",
        times=[now - timedelta(hours=hours) for hours in (5, 15)]
        + [now - timedelta(minutes=minutes) for minutes in range(1, 7)],
    )

    findings = findings_of(customer, Signal.TEMPLATE_BURST)

    assert len(findings) == 1
    assert findings[0].text == (
        "Error log template bursting in WowCache: 'Cache miss storm on segment <*>' "
        "(6 records in the last hour, 0.1 per hour before; 6 across customers)"
    )
    assert findings_of(customer, Signal.TEMPLATE_NEW) == []


def test_steady_template_not_burst():
    agents_build()
    customer = CustomerFactory()
    now = timezone.now()
    template_logs_build(
        customer=customer,
        agent_name="WowCache",
        template="Slow disk on <*>",
        body="Slow disk on node-1",
        times=[now - timedelta(minutes=30 * step + 5) for step in range(40)],
    )

    assert findings_of(customer, Signal.TEMPLATE_BURST) == []
    assert findings_of(customer, Signal.TEMPLATE_NEW) == []


def test_latency_shift_per_operation():
    agents = agents_build()
    customer = CustomerFactory()
    now = timezone.now()
    for hours in (2, 3, 4, 5, 6):
        InteractionFactory(
            customer=customer,
            agent=agents["WowDomain"],
            operation="configure_domain",
            duration_ms=200,
            started_at=now - timedelta(hours=hours),
        )
    for minutes in (5, 10, 15):
        InteractionFactory(
            customer=customer,
            agent=agents["WowDomain"],
            operation="configure_domain",
            duration_ms=2400,
            started_at=now - timedelta(minutes=minutes),
        )

    shifts = findings_of(customer, Signal.LATENCY_SHIFT)

    assert [finding.text for finding in shifts] == [
        "Latency: successful configure_domain calls to WowDomain take 2400 ms on average in "
        "the last hour, 200 ms before"
    ]
    assert shifts[0].operation == "configure_domain"


def test_latency_shift_names_dependency():
    agents = agents_build()
    customer = CustomerFactory()
    now = timezone.now()
    for hours in (2, 3, 4, 5, 6):
        InteractionFactory(
            customer=customer,
            agent=agents["WowDomain"],
            operation="configure_domain",
            duration_ms=200,
            started_at=now - timedelta(hours=hours),
        )
    for minutes in (5, 10, 15):
        InteractionFactory(
            customer=customer,
            agent=agents["WowDomain"],
            operation="configure_domain",
            duration_ms=2400,
            started_at=now - timedelta(minutes=minutes),
        )

    result = diagnose_snapshot(evidence_collect(customer=customer))

    assert result["kind"] == "dependency_timeout"
    assert result["root_cause"]["confidence"] == 0.35
    assert result["root_cause"]["confidence_band"] == "low"


def test_deploy_before_symptoms_is_cause():
    now = timezone.now()
    agents = agents_build()
    api = agents["WowAPI"]
    api.version = "3.2.0"
    api.version_changed_at = now - timedelta(minutes=30)
    api.save()
    customer = CustomerFactory()
    for minutes in (20, 12, 4):
        failed_call_build(
            customer=customer,
            agent=api,
            operation="issue_api_key",
            message="AttributeError: 'NoneType' object has no attribute 'plan'",
            started_at=now - timedelta(minutes=minutes),
        )

    result = diagnose_snapshot(evidence_collect(customer=customer))
    cause = result["root_cause"]["cause"]

    assert result["kind"] == "bad_deploy"
    assert cause["text"] == "WowAPI was deployed as 3.2.0 shortly before its errors began"
    assert cause["evidence"] == "WowAPI changed to version 3.2.0 10 min before its first error"
    assert result["root_cause"]["first_symptom"]["text"].startswith(
        "First failure: issue_api_key call to WowAPI at "
    )


def test_deploy_after_symptoms_not_cause():
    now = timezone.now()
    agents = agents_build()
    api = agents["WowAPI"]
    api.version_changed_at = now - timedelta(minutes=5)
    api.save()
    customer = CustomerFactory()
    failed_call_build(
        customer=customer,
        agent=api,
        operation="issue_api_key",
        message="AttributeError: 'NoneType' object has no attribute 'plan'",
        started_at=now - timedelta(minutes=20),
    )

    assert findings_of(customer, Signal.VERSION_CHANGE) == []


def test_diagnose_snapshot_writes_nothing(django_assert_num_queries):
    customer = story_build()
    snapshot = evidence_collect(customer=customer)

    with django_assert_num_queries(0):
        result = diagnose_snapshot(snapshot)

    assert result["diagnosis_id"] == ""
    assert result["related_issues"] == []
    assert result["kind"] == "db_pool_exhaustion"
    assert result["root_cause"]["confidence"] == 0.9
