"""The OTLP/HTTP receivers at the HTTP level: encodings, auth, limits and error bodies."""

import gzip
import json
import zlib

import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from telemetry import otlp
from telemetry.models import IngestCounter, Interaction, LogRecord
from tests.telemetry.otlp_builders import (
    INGEST_HEADERS,
    PROTOBUF,
    log_build,
    logs_request_build,
    otlp_post,
    span_build,
    trace_request_build,
)

pytestmark = pytest.mark.django_db


def example(shared_data, name: str) -> bytes:
    return (shared_data / "otlp-examples" / name).read_bytes()


def post_json(client, path: str, body: bytes, **headers):
    return client.post(
        path, data=body, content_type="application/json", headers={**INGEST_HEADERS, **headers}
    )


def test_trace_example_json_accepted(client, shared_data):
    response = post_json(client, "/v1/traces", example(shared_data, "trace.json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {}
    interaction = Interaction.objects.get()
    assert interaction.trace_id == "5b8efff798038103d269b633813fc60c"
    assert interaction.span_id == "eee19b7ec3c1b174"
    assert interaction.parent_span_id == "eee19b7ec3c1b173"
    assert interaction.agent.name == "my.service"
    assert interaction.operation == "I'm a server span"
    assert interaction.duration_ms == 1000
    assert interaction.attributes == {"my.span.attr": "some value"}
    assert interaction.customer is None


def test_logs_example_json_accepted(client, shared_data):
    response = post_json(client, "/v1/logs", example(shared_data, "logs.json"))

    assert response.status_code == 200
    assert response.json() == {}
    record = LogRecord.objects.get()
    assert record.body == "Example log record"
    assert record.severity_number == 10
    assert record.severity_text == "Information"
    assert record.trace_id == "5b8efff798038103d269b633813fc60c"
    assert record.attributes["int.attribute"] == 10
    assert record.attributes["map.attribute"] == {"some.map.key": "some value"}


def test_event_log_example_accepted(client, shared_data):
    response = post_json(client, "/v1/logs", example(shared_data, "events.json"))

    assert response.status_code == 200
    record = LogRecord.objects.get()
    assert record.attributes["event.name"] == "browser.page_view"
    assert json.loads(record.body)["title"] == "Free Online GUID Generator"


def test_metrics_example_decodes(shared_data):
    decoded = otlp.request_decode(
        signal=otlp.METRICS, body=example(shared_data, "metrics.json"), content_type=otlp.JSON
    )

    metrics = decoded.message.resource_metrics[0].scope_metrics[0].metrics
    assert decoded.rejected == 0
    assert metrics[0].name == "my.counter"


def test_example_log_joins_example_span(client, shared_data):
    post_json(client, "/v1/logs", example(shared_data, "logs.json"))
    post_json(client, "/v1/traces", example(shared_data, "trace.json"))

    record = LogRecord.objects.get()
    assert record.interaction == Interaction.objects.get()


def test_protobuf_request_answers_protobuf(client):
    response = otlp_post(client, "/v1/traces", trace_request_build(span_build()))

    assert response.status_code == 200
    assert response["Content-Type"] == PROTOBUF
    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert not parsed.HasField("partial_success")
    assert Interaction.objects.count() == 1


def test_gzip_protobuf_accepted(client):
    response = otlp_post(client, "/v1/traces", trace_request_build(span_build()), compress=True)

    assert response.status_code == 200
    assert Interaction.objects.count() == 1


def test_gzip_json_accepted(client, shared_data):
    body = gzip.compress(example(shared_data, "logs.json"))

    response = post_json(client, "/v1/logs", body, **{"Content-Encoding": "gzip"})

    assert response.status_code == 200
    assert LogRecord.objects.count() == 1


def test_missing_token_rejected(client):
    response = otlp_post(client, "/v1/traces", trace_request_build(span_build()), headers={})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="ingest"'
    status = status_pb2.Status.FromString(response.content)
    assert "ingest token" in status.message
    assert Interaction.objects.count() == 0


def test_wrong_token_rejected(client):
    response = otlp_post(
        client,
        "/v1/logs",
        logs_request_build(log_build()),
        headers={"Authorization": "Bearer not-the-token"},
    )

    assert response.status_code == 401
    assert LogRecord.objects.count() == 0


def test_unsupported_content_type_rejected(client):
    response = client.post(
        "/v1/traces", data="spans", content_type="text/plain", headers=INGEST_HEADERS
    )

    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"
    assert "'text/plain'" in response.json()["message"]


def test_unsupported_content_encoding_rejected(client):
    response = post_json(client, "/v1/traces", b"{}", **{"Content-Encoding": "br"})

    assert response.status_code == 415
    assert "'br'" in response.json()["message"]


def test_malformed_protobuf_rejected(client):
    response = client.post(
        "/v1/traces", data=b"\xff\xff\xff", content_type=PROTOBUF, headers=INGEST_HEADERS
    )

    assert response.status_code == 400
    status = status_pb2.Status.FromString(response.content)
    assert "ExportTraceServiceRequest" in status.message


def test_malformed_json_rejected(client):
    response = post_json(client, "/v1/logs", b'{"resourceLogs": [')

    assert response.status_code == 400
    assert response.json()["message"].startswith("Body is not valid JSON")


def test_wrong_json_type_rejected(client):
    response = post_json(client, "/v1/traces", b'{"resourceSpans": "none"}')

    assert response.status_code == 400
    assert "resourceSpans" in response.json()["message"]


def test_invalid_gzip_rejected(client):
    response = post_json(client, "/v1/traces", b"not gzip", **{"Content-Encoding": "gzip"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("Body is not valid gzip")


def test_oversized_body_rejected(client, settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    request = trace_request_build(*[span_build() for _ in range(5)])

    response = otlp_post(client, "/v1/traces", request)

    assert response.status_code == 413
    assert "100 bytes" in status_pb2.Status.FromString(response.content).message
    assert Interaction.objects.count() == 0


def test_gzip_bomb_rejected(client, settings):
    settings.INGEST_MAX_BODY_BYTES = 10_000
    body = gzip.compress(b" " * 5_000_000)

    response = post_json(client, "/v1/traces", body, **{"Content-Encoding": "gzip"})

    assert len(body) < 10_000
    assert response.status_code == 413
    assert response.json()["message"].startswith("Decompressed request body is larger")


def test_get_not_allowed(client):
    response = client.get("/v1/traces", headers=INGEST_HEADERS)

    assert response.status_code == 405


def test_partial_success_in_protobuf(client):
    request = trace_request_build(span_build(), span_build(span_id=b"\x01" * 7), span_build())

    response = otlp_post(client, "/v1/traces", request)

    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert response.status_code == 200
    assert parsed.partial_success.rejected_spans == 1
    assert parsed.partial_success.error_message == (
        "resourceSpans[0].scopeSpans[0].spans[1]: spanId is 7 bytes: send 8 bytes (16 hex digits)."
    )
    assert Interaction.objects.count() == 2


def test_partial_success_in_json(client, shared_data):
    document = json.loads(example(shared_data, "trace.json"))
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append({**spans[0], "spanId": "not-hex-at-all!!"})
    spans.append({**spans[0], "spanId": "EEE19B7EC3C1B175", "endTimeUnixNano": "0"})

    response = post_json(client, "/v1/traces", json.dumps(document).encode())

    body = response.json()
    assert response.status_code == 200
    assert body["partialSuccess"]["rejectedSpans"] == "2"
    assert "spanId 'not-hex-at-all!!' is not hex" in body["partialSuccess"]["errorMessage"]
    assert "endTimeUnixNano is missing" in body["partialSuccess"]["errorMessage"]
    assert Interaction.objects.count() == 1


def test_log_partial_success_counted(client):
    request = logs_request_build(log_build(), log_build(trace_id=b"\x02" * 3))

    response = otlp_post(client, "/v1/logs", request)

    parsed = ExportLogsServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_log_records == 1
    assert "traceId is 3 bytes" in parsed.partial_success.error_message
    assert LogRecord.objects.count() == 1
    assert IngestCounter.objects.get(name="logs_rejected").value == 1


def test_json_response_parses_as_otlp(client, shared_data):
    document = json.loads(example(shared_data, "trace.json"))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "0" * 32

    response = post_json(client, "/v1/traces", json.dumps(document).encode())

    parsed = json_format.Parse(response.content, ExportTraceServiceResponse())
    assert parsed.partial_success.rejected_spans == 1
    assert "traceId is all zeros" in parsed.partial_success.error_message


def test_deflate_json_accepted(client, shared_data):
    body = zlib.compress(example(shared_data, "trace.json"))

    response = post_json(client, "/v1/traces", body, **{"Content-Encoding": "deflate"})

    assert response.status_code == 200
    assert Interaction.objects.count() == 1
