"""Times that UTC cannot hold or that lie in the future are rejected per item, on every ingest."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from customers.models import Trial
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

ALERTS_URL = "/api/platform/helpdesk/ingest/alerts"
# The largest start time OTLP's fixed64 can carry: 2554-07-21T23:34:33Z.
MAX_NANOS = 2**64 - 1


@pytest.mark.parametrize("occurred_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_event_time_outside_utc_rejected(client, occurred_at):
    body = {
        "events": [
            upsert(),
            progress(occurred_at=occurred_at),
            progress(trial_id="trial-wf-2", current_step=3, status="RUNNING"),
        ]
    }

    response = post_events(client, body)

    assert response.status_code == 200
    assert response.json()["accepted"] == 2
    assert response.json()["rejected"] == [
        {
            "index": 1,
            "message": f"occurred_at {occurred_at} is out of range in UTC: "
            "send a time between years 1 and 9999 in UTC.",
        }
    ]
    assert list(Trial.objects.values_list("trial_id", flat=True)) == ["trial-wf-2"]


def test_event_time_far_ahead_rejected(client):
    ahead = timezone.now() + dt.timedelta(days=2)

    response = post_events(
        client, {"events": [progress(occurred_at=ahead.isoformat()), progress(trial_id="t-2")]}
    )

    rejected = response.json()["rejected"]
    assert response.json()["accepted"] == 1
    assert [item["index"] for item in rejected] == [0]
    assert rejected[0]["message"].startswith(
        f"occurred_at {ahead.isoformat()} is more than 1 day ahead of the server clock ("
    )
    assert rejected[0]["message"].endswith(
        "): send the time the item happened, and check the sender's clock."
    )
    assert list(Trial.objects.values_list("trial_id", flat=True)) == ["t-2"]


def test_event_time_hour_ahead_accepted(client):
    ahead = timezone.now() + dt.timedelta(hours=1)

    response = post_events(client, {"events": [progress(occurred_at=ahead.isoformat())]})

    assert response.json() == {"accepted": 1, "rejected": []}
    assert Trial.objects.get().last_activity_at == ahead


def test_span_far_future_rejected(client):
    future = span_build()
    future.start_time_unix_nano = MAX_NANOS - 1_000_000
    future.end_time_unix_nano = MAX_NANOS
    valid = span_build()

    response = otlp_post(client, "/v1/traces", trace_request_build(future, valid))

    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert response.status_code == 200
    assert parsed.partial_success.rejected_spans == 1
    assert parsed.partial_success.error_message.startswith(
        "resourceSpans[0].scopeSpans[0].spans[0]: startTimeUnixNano 18446744073708551615 "
        "(2554-07-21T23:34:33Z) is more than 1 day ahead of the server clock ("
    )
    assert Interaction.objects.get().span_id == valid.span_id.hex()


def test_span_end_far_future_rejected(client):
    span = span_build()
    span.end_time_unix_nano = MAX_NANOS

    response = otlp_post(client, "/v1/traces", trace_request_build(span))

    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_spans == 1
    assert "endTimeUnixNano 18446744073709551615" in parsed.partial_success.error_message
    assert Interaction.objects.count() == 0


def test_span_json_start_zero_rejected(client):
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "store_context",
        "startTimeUnixNano": "0",
        "endTimeUnixNano": "1767269130000000000",
    }
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}

    response = client.post(
        "/v1/traces", data=json.dumps(body), content_type="application/json", headers=INGEST_HEADERS
    )

    assert response.status_code == 200
    assert response.json()["partialSuccess"] == {
        "rejectedSpans": "1",
        "errorMessage": "resourceSpans[0].scopeSpans[0].spans[0]: "
        "startTimeUnixNano is missing: set the span's start time.",
    }
    assert Interaction.objects.count() == 0


def test_log_far_future_rejected(client):
    future = log_build(body="from the future")
    future.time_unix_nano = MAX_NANOS
    request = logs_request_build(future, log_build(body="now"))

    response = otlp_post(client, "/v1/logs", request)

    parsed = ExportLogsServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_log_records == 1
    assert "timeUnixNano 18446744073709551615 (2554-07-21T23:34:33Z)" in (
        parsed.partial_success.error_message
    )
    assert list(LogRecord.objects.values_list("body", flat=True)) == ["now"]


def test_metric_far_future_rejected(client):
    future = gauge_point(1.0)
    future.time_unix_nano = MAX_NANOS
    request = metrics_request_build(gauge_build("queue.depth", future, gauge_point(2.0)))

    response = otlp_post(client, "/v1/metrics", request)

    parsed = ExportMetricsServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_data_points == 1
    assert "timeUnixNano 18446744073709551615" in parsed.partial_success.error_message
    assert list(MetricSample.objects.values_list("value", flat=True)) == [2.0]


def test_metric_start_far_future_rejected(client):
    future = gauge_point(1.0)
    future.start_time_unix_nano = MAX_NANOS

    response = otlp_post(
        client, "/v1/metrics", metrics_request_build(gauge_build("queue.depth", future))
    )

    parsed = ExportMetricsServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_data_points == 1
    assert "startTimeUnixNano 18446744073709551615" in parsed.partial_success.error_message
    assert MetricSample.objects.count() == 0


def alert(**fields) -> dict:
    return {
        "status": "firing",
        "labels": {"alertname": "DatabasePoolExhausted", "agent": "WowMemory"},
        "startsAt": "2026-01-01T12:07:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        **fields,
    }


def post_alerts(client, alerts: list) -> dict:
    response = client.post(
        ALERTS_URL,
        data=json.dumps({"version": "4", "alerts": alerts}),
        content_type="application/json",
        headers=INGEST_HEADERS,
    )
    assert response.status_code == 200
    return response.json()


def test_alert_start_outside_utc_rejected(client):
    body = post_alerts(
        client,
        [
            alert(startsAt="9999-12-31T23:59:59-14:00"),
            alert(labels={"alertname": "QueueBacklog", "agent": "WowAPI"}),
        ],
    )

    assert body["accepted"] == 1
    assert body["rejected"] == [
        {
            "index": 0,
            "message": "alerts[0]: startsAt 9999-12-31T23:59:59-14:00 is out of range in UTC: "
            "send a time between years 1 and 9999 in UTC.",
        }
    ]
    assert list(Alert.objects.values_list("name", flat=True)) == ["QueueBacklog"]


def test_alert_start_far_ahead_rejected(client):
    body = post_alerts(client, [alert(startsAt="2554-07-21T23:34:33Z")])

    assert body["accepted"] == 0
    assert body["rejected"][0]["message"].startswith(
        "alerts[0]: startsAt 2554-07-21T23:34:33+00:00 is more than 1 day ahead of the server "
        "clock ("
    )
    assert Alert.objects.count() == 0


def test_resolved_alert_end_ahead_rejected(client):
    body = post_alerts(client, [alert(status="resolved", endsAt="9999-12-31T23:59:59-14:00")])

    assert body["accepted"] == 0
    assert body["rejected"][0]["message"] == (
        "alerts[0]: endsAt 9999-12-31T23:59:59-14:00 is out of range in UTC: "
        "send a time between years 1 and 9999 in UTC."
    )


def test_firing_alert_end_ignored(client):
    ends_at = (timezone.now() + dt.timedelta(days=30)).isoformat()

    body = post_alerts(client, [alert(endsAt=ends_at)])

    assert body == {"accepted": 1, "rejected": []}
    assert Alert.objects.get().ends_at is None
