"""Fixtures for the demo platform: an in-process platform and a local sink for what it sends."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from demo_platform.runtime import DemoPlatform, PlatformConfig

CONTROL_TOKEN = "test-control-token"
INGEST_TOKEN = "test-ingest-token"


class SinkHandler(BaseHTTPRequestHandler):
    """Accept every POST with 200 and keep the state events and alert payloads it carried."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/ingest/events"):
            self.server.events.extend(json.loads(body)["events"])
        elif self.path.endswith("/ingest/alerts"):
            self.server.alert_payloads.append(json.loads(body))
        else:
            self.server.otlp_posts.append(self.path)
        payload = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def helpdesk_sink():
    """A local stand-in for the help desk's ingest endpoints that records what arrives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SinkHandler)
    server.events = []
    server.alert_payloads = []
    server.otlp_posts = []
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def platform(helpdesk_sink):
    config = PlatformConfig(
        port=0,
        helpdesk_url=f"http://127.0.0.1:{helpdesk_sink.server_address[1]}",
        ingest_token=INGEST_TOKEN,
        control_token=CONTROL_TOKEN,
        customer_count=20,
        start_new_trials=False,
        export_delay_ms=100,
        metric_interval_ms=300,
    )
    demo_platform = DemoPlatform(config)
    demo_platform.start()
    yield demo_platform
    demo_platform.stop()


class ControlClient:
    def __init__(self, base_url: str, token: str | None = CONTROL_TOKEN):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base_url + path, headers=self.headers, timeout=10)

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return requests.post(self.base_url + path, json=body, headers=self.headers, timeout=10)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.base_url + path, headers=self.headers, timeout=10)


@pytest.fixture
def control(platform) -> ControlClient:
    return ControlClient(f"http://127.0.0.1:{platform.port}")
