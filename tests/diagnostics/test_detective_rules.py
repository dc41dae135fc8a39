from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Agent
from diagnostics.detectors import Signal, findings_detect
from diagnostics.evidence import evidence_collect
from diagnostics.services import diagnosis_create
from telemetry.models import Interaction
from tests.diagnostics.factories import agents_build, failed_call_build
from tests.factories import CustomerFactory, InteractionFactory, LogRecordFactory

pytestmark = pytest.mark.django_db


def test_log_agent_from_record_attribute():
    customer = CustomerFactory()
    LogRecordFactory(
        interaction=None,
        customer=customer,
        service_name="shared-exporter",
        attributes={"gen_ai.agent.name": "WowCache"},
        severity_number=17,
        severity_text="ERROR",
        body="cache entry evicted between lookup and read",
    )

    logs = evidence_collect(customer=customer).logs

    assert len(logs) == 1
    assert logs[0].agent == "WowCache"


def test_log_agent_falls_back_to_service():
    customer = CustomerFactory()
    LogRecordFactory(
        interaction=None,
        customer=customer,
        service_name="shared-exporter",
        severity_number=17,
        severity_text="ERROR",
        body="worker stopped",
    )

    logs = evidence_collect(customer=customer).logs

    assert logs[0].agent == "shared-exporter"


def test_error_class_name_names_kind():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    for minutes in (7, 5, 3):
        InteractionFactory(
            customer=customer,
            agent=agents["WowAPI"],
            operation="call_llm",
            started_at=now - timedelta(minutes=minutes),
            status=Interaction.Status.FAILED,
            error_type="AuthenticationError",
            error_message="Error code: 7 - request rejected by provider",
        )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "credential_failure"
    assert result["root_cause"]["affected_component"] == "WowAPI"


def test_stray_timeout_not_the_cause():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    failed_call_build(
        customer=customer,
        agent=agents["WowMemory"],
        message="Read timed out. (read timeout=20)",
        started_at=now - timedelta(hours=5),
        status=Interaction.Status.TIMEOUT,
    )
    for hours in range(1, 10):
        InteractionFactory(
            customer=customer,
            agent=agents["WowMemory"],
            started_at=now - timedelta(hours=hours, minutes=30),
        )
    for minutes in (8, 4):
        failed_call_build(
            customer=customer,
            agent=agents["WowDomain"],
            operation="parse_domain",
            message="JSONDecodeError: Expecting ',' delimiter: line 1 column 14",
            started_at=now - timedelta(minutes=minutes),
        )

    snapshot = evidence_collect(customer=customer)
    signals = {finding.signal for finding in findings_detect(snapshot=snapshot)}
    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "invalid_customer_input"
    assert result["root_cause"]["affected_component"] == "WowDomain"
    assert Signal.TIMEOUTS not in signals


def test_out_of_memory_not_a_crash():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    memory = agents["WowMemory"]
    Agent.objects.filter(pk=memory.pk).update(status="RESTARTING")
    for minutes in (9, 6, 3):
        failed_call_build(
            customer=customer,
            agent=memory,
            message="Container killed: OOMKilled (out of memory)",
            started_at=now - timedelta(minutes=minutes),
        )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "resource_exhaustion"
    assert result["root_cause"]["affected_component"] == "WowMemory"


def test_unset_variable_names_config_error():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    for minutes in (6, 4, 2):
        InteractionFactory(
            customer=customer,
            agent=agents["WowDomain"],
            operation="classify_domain",
            started_at=now - timedelta(minutes=minutes),
            status=Interaction.Status.FAILED,
            error_type="KeyError",
            error_message="'CRM_TENANT_ID'",
        )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "config_error"
    assert result["root_cause"]["affected_component"] == "WowDomain"
