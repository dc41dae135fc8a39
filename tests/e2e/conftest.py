"""Fixtures for browser tests: the demo world, the demo platform process and a Chromium page."""

import socket
import subprocess
import sys
import time

import pytest
import requests
from django.core.management import call_command

from tests.conftest import ROOT

DEMO_INGEST_TOKEN = "demo-ingest-token"
DEMO_CONTROL_TOKEN = "demo-platform-token"
# A smaller world than the demo's default: the platform re-sends every customer's state when it
# starts, and on a busy two-core machine the full world's events can delay a retry's progress
# events past the test's timeouts.
E2E_CUSTOMERS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, *, timeout_seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Process serving {url} exited with code {process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not respond within {timeout_seconds} s")


@pytest.fixture
def demo_world(transactional_db):
    call_command("load_demo", customers=E2E_CUSTOMERS, verbosity=0)


@pytest.fixture
def demo_platform(live_server, settings, demo_world):
    """Start the demo platform against the live test server and point quick actions at it."""
    port = free_port()
    command = [
        sys.executable, "-m", "demo_platform",
        "--port", str(port),
        "--helpdesk-url", live_server.url,
        "--ingest-token", DEMO_INGEST_TOKEN,
        "--control-token", DEMO_CONTROL_TOKEN,
        "--customers", str(E2E_CUSTOMERS),
        "--no-new-trials",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base_url}/healthz", timeout_seconds=20, process=process)
    settings.PLATFORM_API_URL = base_url
    settings.PLATFORM_API_TOKEN = DEMO_CONTROL_TOKEN

    yield base_url

    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
