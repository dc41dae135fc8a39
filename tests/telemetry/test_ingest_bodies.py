"""Request bodies on every ingest endpoint: deep JSON, chunked transfer, compression, limits."""

import gzip
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from customers.models import Customer
from helpdesk.api_parser import JSON_MAX_DEPTH, NESTING_MESSAGE
from telemetry.models import Interaction
from telemetry.request_body import MAX_JSON_DEPTH
from tests.conftest import ROOT, database_url_for_children
from tests.telemetry.otlp_builders import INGEST_HEADERS
from tests.telemetry.test_platform_events import upsert

pytestmark = pytest.mark.django_db

EVENTS_URL = "/api/platform/helpdesk/ingest/events"
ALERTS_URL = "/api/platform/helpdesk/ingest/alerts"
OTLP_URLS = ["/v1/traces", "/v1/logs", "/v1/metrics"]
TOO_DEEP = (
    f"Body is JSON nested more than {MAX_JSON_DEPTH} levels deep: "
    "send flatter JSON, such as attribute values nested fewer levels."
)
SPAN_JSON = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "m"}}]},
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "name": "store_context",
                            "startTimeUnixNano": "1767269130000000000",
                            "endTimeUnixNano": "1767269131000000000",
                        }
                    ]
                }
            ],
        }
    ]
}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def post(client, url: str, body: bytes, *, encoding: str = "", **extra):
    headers = {**INGEST_HEADERS, "Content-Encoding": encoding} if encoding else INGEST_HEADERS
    return client.post(url, data=body, content_type="application/json", headers=headers, **extra)


@pytest.mark.parametrize("url", OTLP_URLS)
@pytest.mark.parametrize("depth", [100_000, MAX_JSON_DEPTH + 1])
def test_otlp_deep_json_rejected(client, url, depth):
    response = post(client, url, nested(depth))

    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": TOO_DEEP}


@pytest.mark.parametrize("url", [EVENTS_URL, ALERTS_URL])
@pytest.mark.parametrize("depth", [100_000, JSON_MAX_DEPTH + 1])
def test_json_ingest_deep_rejected(client, url, depth):
    body = gzip.compress(nested(depth))

    response = post(client, url, body, encoding="gzip")

    assert response.status_code == 400
    assert response.json() == {"message": NESTING_MESSAGE, "errors": []}


def test_metadata_at_depth_limit_accepted(client):
    # The envelope {"events": [{"customer": {"metadata": ...}}]} takes four levels.
    metadata = {"level": None}
    for _ in range(JSON_MAX_DEPTH - 5):
        metadata = {"level": metadata}
    body = {"events": [upsert(metadata=metadata)]}

    response = post(client, EVENTS_URL, json.dumps(body).encode())

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": []}


def chunked_environ(body: bytes, *, terminated: bool) -> dict:
    """WSGI keys of a chunked request as gunicorn passes it: no CONTENT_LENGTH."""
    environ = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def test_chunked_otlp_read_to_end(client):
    body = json.dumps(SPAN_JSON).encode()

    response = post(client, "/v1/traces", body, **chunked_environ(body, terminated=True))

    assert response.status_code == 200
    assert response.json() == {}
    assert Interaction.objects.get().span_id == "eee19b7ec3c1b174"


def test_chunked_events_read_to_end(client):
    body = json.dumps({"events": [upsert()]}).encode()

    response = post(client, EVENTS_URL, body, **chunked_environ(body, terminated=True))

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": []}
    assert Customer.objects.get().name == "John Doe"


def test_chunked_unterminated_input_411(client):
    body = json.dumps(SPAN_JSON).encode()

    response = post(client, "/v1/traces", body, **chunked_environ(body, terminated=False))

    assert response.status_code == 411
    assert response.json() == {
        "code": 3,
        "message": "Length required: this server cannot read chunked request bodies, "
        "so send the body with a Content-Length header.",
    }
    assert Interaction.objects.count() == 0


def test_chunked_oversized_body_413(client, settings):
    settings.INGEST_MAX_BODY_BYTES = 100
    body = json.dumps(SPAN_JSON).encode()

    response = post(client, "/v1/traces", body, **chunked_environ(body, terminated=True))

    assert response.status_code == 413
    assert response.json()["message"] == (
        "Request body is larger than 100 bytes: send smaller batches."
    )


def test_gzip_events_accepted(client):
    body = gzip.compress(json.dumps({"events": [upsert()]}).encode())

    response = post(client, EVENTS_URL, body, encoding="gzip")

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": []}
    assert Customer.objects.get().company == "Acme Corp"


def test_gzip_alerts_accepted(client):
    alert = {
        "status": "firing",
        "labels": {"alertname": "QueueBacklog", "agent": "WowAPI"},
        "startsAt": "2026-01-01T12:07:00Z",
    }
    body = gzip.compress(json.dumps({"version": "4", "alerts": [alert]}).encode())

    response = post(client, ALERTS_URL, body, encoding="gzip")

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": []}


def test_events_gzip_bomb_413(client, settings):
    settings.INGEST_MAX_BODY_BYTES = 1000
    body = gzip.compress(json.dumps({"events": [upsert(name="x" * 5000)]}).encode())

    response = post(client, EVENTS_URL, body, encoding="gzip")

    assert len(body) < 1000
    assert response.status_code == 413
    assert response.json() == {
        "message": "Decompressed request body is larger than 1000 bytes: send smaller batches.",
        "errors": [],
    }
    assert Customer.objects.count() == 0


def test_events_unknown_encoding_415(client):
    body = json.dumps({"events": [upsert()]}).encode()

    response = post(client, EVENTS_URL, body, encoding="br")

    assert response.status_code == 415
    assert response.json() == {
        "message": "Unsupported content encoding 'br': send gzip, deflate or identity.",
        "errors": [],
    }


def test_events_invalid_gzip_400(client):
    response = post(client, EVENTS_URL, b"not gzip", encoding="gzip")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Body is not valid gzip: ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn_url(transactional_db):
    """Serve the help desk with gunicorn on the test database, as production does."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for_children(),
        "DATABASE_CONN_MAX_AGE": "0",
    }
    command = [
        sys.executable, "-m", "gunicorn", "helpdesk.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    if process.poll() is not None:
        pytest.fail(f"gunicorn exited early:\n{process.stderr.read().decode()[-3000:]}")

    yield port

    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_gunicorn_reads_chunked_span(gunicorn_url):
    body = json.dumps(SPAN_JSON).encode()
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_url, timeout=30)

    # An iterable body without Content-Length goes out with Transfer-Encoding: chunked.
    connection.request(
        "POST",
        "/v1/traces",
        body=iter([body[:50], body[50:]]),
        headers={**INGEST_HEADERS, "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    payload = response.read()
    connection.close()

    assert response.status == 200
    assert json.loads(payload) == {}
    assert Interaction.objects.get().span_id == "eee19b7ec3c1b174"
