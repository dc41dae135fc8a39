"""Ids with control characters are rejected per item; NUL is removed from free text.

PostgreSQL stores no NUL in text or jsonb, so these run on both databases in CI.
"""

import json

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from customers.models import Agent, Customer, Trial
from telemetry.models import Alert, Interaction, LogRecord, MetricSample
from tests.telemetry.otlp_builders import (
    INGEST_HEADERS,
    gauge_build,
    gauge_point,
    log_build,
    logs_request_build,
    metrics_request_build,
    otlp_post,
    span_build,
    trace_request_build,
)
from tests.telemetry.test_platform_events import post_events, progress, upsert

pytestmark = pytest.mark.django_db


def test_span_customer_id_nul_rejected(client):
    bad = span_build(attributes={"customer.id": "cust\x00nul"})
    good = span_build()

    response = otlp_post(client, "/v1/traces", trace_request_build(bad, good))

    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert response.status_code == 200
    assert parsed.partial_success.rejected_spans == 1
    assert parsed.partial_success.error_message == (
        "resourceSpans[0].scopeSpans[0].spans[0]: customer.id 'cust\\x00nul' contains control "
        "characters: send an id of printable characters."
    )
    assert list(Customer.objects.values_list("customer_id", flat=True)) == ["cust-123"]
    assert Interaction.objects.get().span_id == good.span_id.hex()


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"gen_ai.agent.name": "Wow\x07Memory"}, "gen_ai.agent.name"),
        ({"workflow.id": "trial\nwf"}, "workflow.id"),
    ],
)
def test_span_id_control_rejected(client, attributes, field):
    response = otlp_post(
        client, "/v1/traces", trace_request_build(span_build(attributes=attributes))
    )

    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_spans == 1
    assert f": {field} " in parsed.partial_success.error_message
    assert Interaction.objects.count() == 0


def test_span_service_name_control_rejected(client):
    span = span_build()
    del span.attributes[1]  # gen_ai.agent.name, so the agent is service.name

    response = otlp_post(
        client, "/v1/traces", trace_request_build(span, resource={"service.name": "wow\x00mem"})
    )

    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_spans == 1
    assert "service.name 'wow\\x00mem' contains control characters" in (
        parsed.partial_success.error_message
    )


def test_span_text_nul_removed(client):
    span = span_build(
        name="store\x00_context",
        error="Database\x00 timeout",
        attributes={
            "agent.request.body": '{"q": "a\x00b"}',
            "note\x00key": "value\x00",
            "nested": "x",
        },
    )

    response = otlp_post(client, "/v1/traces", trace_request_build(span))

    interaction = Interaction.objects.get()
    assert response.status_code == 200
    assert interaction.request_body == '{"q": "ab"}'
    assert interaction.error_message == "Database timeout"
    assert interaction.operation == "store_context"
    assert interaction.attributes == {"notekey": "value", "nested": "x"}


def test_span_json_body_nul_removed(client):
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "store_context",
        "startTimeUnixNano": "1767269130000000000",
        "endTimeUnixNano": "1767269131000000000",
        "attributes": [
            {"key": "customer.id", "value": {"stringValue": "cust-123"}},
            {"key": "agent.response.body", "value": {"stringValue": "ok\u0000"}},
            {
                "key": "detail",
                "value": {"arrayValue": {"values": [{"stringValue": "a\u0000"}]}},
            },
        ],
    }
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}

    response = client.post(
        "/v1/traces", data=json.dumps(body), content_type="application/json", headers=INGEST_HEADERS
    )

    interaction = Interaction.objects.get()
    assert response.status_code == 200
    assert interaction.response_body == "ok"
    assert interaction.attributes == {"detail": ["a"]}


def test_log_text_nul_removed(client):
    record = log_build(body="Connect\x00ing", attributes={"k\x00": "v\x00"})
    record.severity_text = "WA\x00RN"

    response = otlp_post(client, "/v1/logs", logs_request_build(record))

    stored = LogRecord.objects.get()
    assert response.status_code == 200
    assert stored.body == "Connecting"
    assert stored.severity_text == "WARN"
    assert stored.attributes == {"k": "v"}


def test_log_customer_id_nul_rejected(client):
    bad = log_build(attributes={"customer.id": "cust\x00nul"})

    response = otlp_post(client, "/v1/logs", logs_request_build(bad, log_build()))

    parsed = ExportLogsServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_log_records == 1
    assert "customer.id 'cust\\x00nul' contains control characters" in (
        parsed.partial_success.error_message
    )
    assert LogRecord.objects.count() == 1
    assert Customer.objects.count() == 0


def test_metric_ids_checked_text_cleaned(client):
    bad = gauge_point(1.0, attributes={"customer.id": "cust\x00nul"})
    good = gauge_point(2.0, attributes={"pool\x00": "primary\x00"})
    metric = gauge_build("db.pool\x00.usage", bad, good, unit="{conn\x00}")

    response = otlp_post(client, "/v1/metrics", metrics_request_build(metric))

    parsed = ExportMetricsServiceResponse.FromString(response.content)
    sample = MetricSample.objects.get()
    assert parsed.partial_success.rejected_data_points == 1
    assert "customer.id 'cust\\x00nul' contains control characters" in (
        parsed.partial_success.error_message
    )
    assert sample.name == "db.pool.usage"
    assert sample.unit == "{conn}"
    assert sample.attributes == {"pool": "primary"}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            upsert(customer_id="cust\x00nul"),
            "customer_id 'cust\\x00nul' contains control characters: "
            "send an id of printable characters.",
        ),
        (
            progress(trial_id="trial\x1bwf"),
            "trial_id 'trial\\x1bwf' contains control characters: "
            "send an id of printable characters.",
        ),
        (
            progress(customer_id="cust\x00nul"),
            "customer_id 'cust\\x00nul' contains control characters: "
            "send an id of printable characters.",
        ),
        (
            progress(agents=["WowMemory", "Wow\x00API"]),
            "agents 'Wow\\x00API' contains control characters: send an id of printable characters.",
        ),
        (
            {
                "type": "agent.status",
                "agent": "Wow\x00Memory",
                "status": "DOWN",
                "occurred_at": "2026-01-01T12:00:00Z",
            },
            "agent 'Wow\\x00Memory' contains control characters: "
            "send an id of printable characters.",
        ),
    ],
)
def test_event_id_control_rejected(client, event, message):
    response = post_events(client, {"events": [event, upsert(customer_id="cust-9")]})

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": [{"index": 0, "message": message}]}
    assert list(Customer.objects.values_list("customer_id", flat=True)) == ["cust-9"]
    assert Trial.objects.count() == 0
    assert Agent.objects.count() == 0


def test_event_text_nul_removed(client):
    events = [
        upsert(name="John\x00 Doe", company="Acme\x00", metadata={"t\x00": ["p\x00"]}),
        progress(detail="timeout\x00", step_name="retrieve\x00_context", plan="pre\x00mium"),
    ]

    response = post_events(client, {"events": events})

    customer = Customer.objects.get()
    trial = Trial.objects.get()
    assert response.json() == {"accepted": 2, "rejected": []}
    assert customer.name == "John Doe"
    assert customer.company == "Acme"
    assert customer.metadata == {"t": ["p"]}
    assert trial.status_detail == "timeout"
    assert trial.step_name == "retrieve_context"
    assert trial.plan == "premium"


def test_alert_ids_checked_text_cleaned(client):
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "PoolExhausted", "customer_id": "cust\x00nul"},
            "startsAt": "2026-01-01T12:07:00Z",
        },
        {
            "status": "firing",
            "labels": {"alertname": "Pool\x00Exhausted", "pool": "primary\x00"},
            "annotations": {"summary": "95/100\x00 in use"},
            "startsAt": "2026-01-01T12:07:00Z",
            "generatorURL": "http://prometheus.example.com/\x00",
        },
    ]

    response = client.post(
        "/api/platform/helpdesk/ingest/alerts",
        data=json.dumps({"version": "4", "receiver": "help\x00desk", "alerts": alerts}),
        content_type="application/json",
        headers=INGEST_HEADERS,
    )

    alert = Alert.objects.get()
    assert response.json() == {
        "accepted": 1,
        "rejected": [
            {
                "index": 0,
                "message": "alerts[0]: labels.customer_id 'cust\\x00nul' contains control "
                "characters: send an id of printable characters.",
            }
        ],
    }
    assert alert.name == "PoolExhausted"
    assert alert.labels == {"alertname": "PoolExhausted", "pool": "primary"}
    assert alert.summary == "95/100 in use"
    assert alert.generator_url == "http://prometheus.example.com/"
    assert alert.receiver == "helpdesk"
