"""Spans into interactions: attribute mapping, counters, idempotency and query cost."""

import datetime as dt

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from customers.models import AgentAssignment, Customer
from telemetry.models import IngestCounter, Interaction
from telemetry.records import status_classify
from telemetry.services import traces_ingest
from tests.factories import CustomerFactory, TrialFactory
from tests.telemetry.otlp_builders import START, key_values, span_build, trace_request_build

pytestmark = pytest.mark.django_db


def counter(name: str) -> int:
    row = IngestCounter.objects.filter(name=name).first()
    return row.value if row else 0


def test_span_fields_mapped():
    CustomerFactory(customer_id="cust-123")
    trial = TrialFactory(trial_id="trial-wf-12345")
    span = span_build(
        name="db.query",
        duration_ms=30002,
        parent_span_id=b"\x0a" * 8,
        error="Database connection timeout after 30s",
        attributes={
            "gen_ai.operation.name": "retrieve_context",
            "agent.request.body": '{"context_id": "ctx-456"}',
            "agent.response.body": "null",
            "workflow.id": "trial-wf-12345",
            "workflow.step": 7,
            "error.type": "TimeoutError",
            "agent.retry.count": 2,
            "db.system": "postgresql",
        },
    )

    result = traces_ingest(request=trace_request_build(span))

    interaction = Interaction.objects.get()
    assert result.accepted == 1
    assert result.rejected == 0
    assert interaction.customer.customer_id == "cust-123"
    assert interaction.agent.name == "WowMemory"
    assert interaction.service_name == "wow-memory"
    assert interaction.operation == "retrieve_context"
    assert interaction.request_body == '{"context_id": "ctx-456"}'
    assert interaction.response_body == "null"
    assert interaction.started_at == START
    assert interaction.duration_ms == 30002
    assert interaction.status == Interaction.Status.TIMEOUT
    assert interaction.error_type == "TimeoutError"
    assert interaction.error_message == "Database connection timeout after 30s"
    assert interaction.trace_id == span.trace_id.hex()
    assert interaction.span_id == span.span_id.hex()
    assert interaction.parent_span_id == "0a" * 8
    assert interaction.trial == trial
    assert interaction.workflow_step == 7
    assert interaction.retry_count == 2
    assert interaction.attributes == {"db.system": "postgresql"}


def test_resource_attributes_used_as_fallback():
    span = span_build(name="start_trial_workflow")
    del span.attributes[:]

    traces_ingest(
        request=trace_request_build(
            span, resource={"service.name": "WowOrchestrator", "customer.id": "cust-9"}
        )
    )

    interaction = Interaction.objects.get()
    assert interaction.agent.name == "WowOrchestrator"
    assert interaction.customer.customer_id == "cust-9"
    assert interaction.operation == "start_trial_workflow"


def test_exception_event_gives_error():
    span = span_build(error="")
    span.status.code = 2
    event = span.events.add(name="exception")
    event.attributes.extend(
        key_values({"exception.type": "ValueError", "exception.message": "bad context id"})
    )

    traces_ingest(request=trace_request_build(span))

    interaction = Interaction.objects.get()
    assert interaction.status == Interaction.Status.FAILED
    assert interaction.error_type == "ValueError"
    assert interaction.error_message == "bad context id"


@pytest.mark.parametrize(
    ("error_type", "status_code", "expected"),
    [
        ("", 0, "success"),
        ("", 1, "success"),
        ("", 2, "failed"),
        ("ConnectionError", 2, "failed"),
        ("ConnectionError", 0, "failed"),
        ("timeout", 2, "timeout"),
        ("ReadTimeout", 2, "timeout"),
        ("asyncio.TimeoutError", 2, "timeout"),
        ("TIMEOUT", 0, "timeout"),
        ("TimeoutPolicy", 2, "failed"),
    ],
)
def test_status_classification(error_type, status_code, expected):
    assert status_classify(error_type=error_type, status_code=status_code) == expected


def test_unknown_workflow_kept_in_attributes():
    traces_ingest(request=trace_request_build(span_build(attributes={"workflow.id": "wf-x"})))

    interaction = Interaction.objects.get()
    assert interaction.trial is None
    assert interaction.attributes == {"workflow.id": "wf-x"}


def test_span_without_customer_counted():
    span = span_build()
    del span.attributes[:]

    result = traces_ingest(request=trace_request_build(span, span_build()))

    assert result.accepted == 2
    assert Interaction.objects.filter(customer=None).count() == 1
    assert counter("spans_without_customer") == 1
    assert counter("spans_accepted") == 2


def test_unknown_customer_created_bare():
    traces_ingest(request=trace_request_build(span_build(attributes={"customer.id": "cust-new"})))

    customer = Customer.objects.get(customer_id="cust-new")
    assert customer.name == ""
    assert customer.interactions.count() == 1
    assert customer.last_activity_at == START


def test_bad_span_rejected_alone():
    missing_start = span_build()
    missing_start.start_time_unix_nano = 0
    backwards = span_build()
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 1
    short_trace = span_build(trace_id=b"\x01" * 8)
    request = trace_request_build(span_build(), missing_start, backwards, short_trace)

    result = traces_ingest(request=request)

    assert result.accepted == 1
    assert result.rejected == 3
    assert result.errors == [
        "resourceSpans[0].scopeSpans[0].spans[1]: startTimeUnixNano is missing: "
        "set the span's start time.",
        "resourceSpans[0].scopeSpans[0].spans[2]: endTimeUnixNano is before "
        "startTimeUnixNano: check the span's clock.",
        "resourceSpans[0].scopeSpans[0].spans[3]: traceId is 8 bytes: "
        "send 16 bytes (32 hex digits).",
    ]
    assert Interaction.objects.count() == 1
    assert counter("spans_rejected") == 3


def test_resent_span_changes_nothing():
    trial = TrialFactory(trial_id="trial-wf-12345", customer__customer_id="cust-123")
    request = trace_request_build(
        span_build(error="boom", attributes={"workflow.id": "trial-wf-12345"})
    )
    traces_ingest(request=request)

    result = traces_ingest(request=request)

    assignment = AgentAssignment.objects.get()
    trial.refresh_from_db()
    assert result.accepted == 1
    assert result.rejected == 0
    assert Interaction.objects.count() == 1
    assert assignment.interaction_count == 1
    assert assignment.error_count == 1
    assert trial.agents_involved == ["WowMemory"]
    assert counter("spans_accepted") == 1


def test_duplicate_span_in_batch_stored_once():
    span = span_build()

    result = traces_ingest(request=trace_request_build(span, span))

    assert result.accepted == 1
    assert Interaction.objects.count() == 1


def test_assignment_counters_updated():
    later = START + dt.timedelta(minutes=5)
    request = trace_request_build(
        span_build(),
        span_build(error="refused"),
        span_build(start=later, error="slow", attributes={"error.type": "timeout"}),
        span_build(attributes={"gen_ai.agent.name": "WowCache"}),
    )

    traces_ingest(request=request)
    traces_ingest(request=trace_request_build(span_build(start=START - dt.timedelta(hours=1))))

    memory = AgentAssignment.objects.get(agent__name="WowMemory")
    cache = AgentAssignment.objects.get(agent__name="WowCache")
    assert memory.interaction_count == 4
    assert memory.error_count == 1
    assert memory.timeout_count == 1
    assert memory.last_interaction_at == later
    assert cache.interaction_count == 1
    assert cache.error_count == 0
    assert Customer.objects.get(customer_id="cust-123").last_activity_at == later


def test_trial_activity_updated():
    trial = TrialFactory(
        trial_id="trial-wf-12345",
        customer__customer_id="cust-123",
        agents_involved=["WowOrchestrator"],
        started_at=START - dt.timedelta(hours=1),
    )
    request = trace_request_build(
        span_build(attributes={"workflow.id": "trial-wf-12345"}),
        span_build(attributes={"workflow.id": "trial-wf-12345", "gen_ai.agent.name": "WowCache"}),
    )

    traces_ingest(request=request)

    trial.refresh_from_db()
    assert trial.agents_involved == ["WowOrchestrator", "WowCache", "WowMemory"]
    assert trial.last_activity_at == START


def many_spans(count: int) -> list[Span]:
    """Build spans spread over several customers, agents and trials, as a busy batch is."""
    return [
        span_build(
            error="boom" if index % 3 == 0 else "",
            attributes={
                "customer.id": f"cust-{index % 7}",
                "gen_ai.agent.name": f"WowAgent{index % 5}",
                "workflow.id": f"trial-{index % 4}",
            },
        )
        for index in range(count)
    ]


@pytest.mark.parametrize("count", [3, 60])
def test_query_count_independent_of_batch(count, django_assert_max_num_queries):
    for number in range(4):
        TrialFactory(trial_id=f"trial-{number}", customer__customer_id=f"cust-{number}")
    request = trace_request_build(*many_spans(count))

    # One of them is the upsert that adds the batch to the hourly operation rollup.
    with django_assert_max_num_queries(20):
        traces_ingest(request=request)

    assert Interaction.objects.count() == count
