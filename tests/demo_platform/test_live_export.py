"""The demo platform as its own process, exporting to a live help desk server."""

import socket
import subprocess
import sys
import time

import pytest
import requests
from django.db import OperationalError
from django.utils import timezone

from customers.models import Trial
from telemetry.models import Alert, Interaction, LogRecord, MetricSample
from tests.conftest import ROOT

CONTROL_TOKEN = "demo-platform-token"
CONTROL_HEADERS = {"Authorization": f"Bearer {CONTROL_TOKEN}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition, *, timeout: float = 20.0) -> bool:
    """Poll `condition` until true or timed out.

    The test database is in-memory SQLite shared with the live server's threads. A read that
    meets a write in progress fails with "table is locked", which counts as not yet.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OperationalError:
            pass
        time.sleep(0.2)
    return condition()


@pytest.fixture
def platform_process(live_server):
    port = free_port()
    command = [
        sys.executable, "-m", "demo_platform",
        "--port", str(port),
        "--helpdesk-url", live_server.url,
        "--ingest-token", "demo-ingest-token",
        "--control-token", CONTROL_TOKEN,
        "--customers", "12",
        "--no-new-trials",
        "--metric-interval-ms", "500",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{base_url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return process.poll() is not None

    until(healthy)
    if process.poll() is not None:
        pytest.fail(f"Demo platform exited early:\n{process.stderr.read()[-3000:]}")

    yield base_url

    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.django_db(transaction=True)
def test_platform_exports_to_helpdesk(platform_process):
    story = f"{platform_process}/v1"

    stuck = until(lambda: Trial.objects.filter(trial_id="trial-wf-12345", status="STUCK").exists())
    restart = requests.post(
        f"{story}/customers/cust-123/agents/WowMemory/restart",
        json={"reason": "Resolving timeout issue"},
        headers=CONTROL_HEADERS,
        timeout=10,
    )
    retry = requests.post(
        f"{story}/workflows/trial-wf-12345/retry",
        json={"from_step": 7},
        headers=CONTROL_HEADERS,
        timeout=10,
    )
    completed = until(
        lambda: Trial.objects.filter(trial_id="trial-wf-12345", status="COMPLETED").exists()
    )
    final_span = until(
        lambda: Interaction.objects.filter(
            trial__trial_id="trial-wf-12345", workflow_step=15, operation="activate_trial"
        ).exists()
    )

    assert stuck
    assert restart.status_code == 200
    assert retry.status_code == 202
    assert completed
    assert final_span
    restart_span = Interaction.objects.get(
        customer__customer_id="cust-123", operation="restart_agent"
    )
    assert restart_span.agent.name == "WowMemory"
    assert restart_span.service_name == "WowMemory"
    assert until(lambda: LogRecord.objects.filter(interaction=restart_span).count() == 2)
    retried = Interaction.objects.get(trial__trial_id="trial-wf-12345", workflow_step=7)
    assert retried.operation == "retrieve_context"
    assert retried.status == Interaction.Status.SUCCESS


def story_pool_used(*, after) -> list[float]:
    samples = MetricSample.objects.filter(
        name="db.client.connection.count",
        agent__name="WowMemory",
        customer__customer_id="cust-123",
        timestamp__gt=after,
    )
    return [
        sample.value
        for sample in samples
        if sample.attributes.get("db.client.connection.state") == "used"
    ]


def story_alert(status: str) -> bool:
    return Alert.objects.filter(
        name="DatabasePoolExhausted", customer__customer_id="cust-123", status=status
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_platform_exports_metrics_alerts(platform_process):
    started = timezone.now()

    pool_full = until(lambda: 95.0 in story_pool_used(after=started))
    firing = until(lambda: story_alert("firing"))
    restart = requests.post(
        f"{platform_process}/v1/customers/cust-123/agents/WowMemory/restart",
        json={"reason": "Free the connection pool"},
        headers=CONTROL_HEADERS,
        timeout=10,
    )
    restarted = timezone.now()
    resolved = until(lambda: story_alert("resolved"))
    eased = until(lambda: any(value < 95.0 for value in story_pool_used(after=restarted)))

    assert pool_full
    assert firing
    assert restart.status_code == 200
    assert resolved
    assert eased
    alert = Alert.objects.get(name="DatabasePoolExhausted", customer__customer_id="cust-123")
    assert alert.agent.name == "WowMemory"
    assert alert.ends_at is not None
    assert MetricSample.objects.filter(
        name="messaging.queue.depth", agent__name="WowOrchestrator"
    ).exists()
