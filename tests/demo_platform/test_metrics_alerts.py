"""The platform's metrics and alerts: readings under faults, history, SDK export, webhook alerts."""

import random
import time
from datetime import UTC, datetime, timedelta

from demo_platform.alerts import fault_alert, labels_fingerprint, webhook_payload
from demo_platform.metrics import metric_history_request, platform_readings
from demo_platform.world import Fault
from telemetry.alert_ingest import alert_fingerprint
from tests.demo_platform.conftest import ControlClient

NOW = datetime(2026, 1, 1, 12, 15, tzinfo=UTC)
POOL_FAULT = Fault("fault-1", "db_pool_exhausted", "WowMemory", "cust-123", NOW)


def pool_used(readings, *, agent: str, customer_id: str | None) -> list[float]:
    return [
        reading.value
        for reading in readings
        if reading.metric == "db.client.connection.count"
        and reading.agent == agent
        and reading.attributes.get("customer.id") == customer_id
        and reading.attributes["db.client.connection.state"] == "used"
    ]


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_pool_exhausted_for_faulted_instance():
    readings = platform_readings(
        faults=[POOL_FAULT],
        instances=[("cust-123", "WowMemory")],
        rng=random.Random(1),
        now=NOW,
    )

    assert pool_used(readings, agent="WowMemory", customer_id="cust-123") == [95]
    platform = pool_used(readings, agent="WowMemory", customer_id=None)
    assert len(platform) == 1
    assert 20 <= platform[0] <= 40


def test_queue_backlog_deepens_tasks():
    backlog = Fault("fault-2", "queue_backlog", "WowOrchestrator", None, NOW - timedelta(minutes=2))

    readings = platform_readings(faults=[backlog], instances=[], rng=random.Random(1), now=NOW)

    depth = {
        r.attributes["messaging.destination.name"]: r.value
        for r in readings
        if r.metric == "messaging.queue.depth"
    }
    age = {
        r.attributes["messaging.destination.name"]: r.value
        for r in readings
        if r.metric == "messaging.queue.oldest_message_age"
    }
    assert depth["orchestration.tasks"] >= 250
    assert depth["agent.commands"] <= 15
    assert age["orchestration.tasks"] == 420.0


def test_history_ramps_at_fault_start():
    request = metric_history_request(faults=[POOL_FAULT], anchor=NOW + timedelta(minutes=8), seed=7)

    metric = next(
        m
        for m in request.resource_metrics[0].scope_metrics[0].metrics
        if m.name == "db.client.connection.count"
    )
    used = [
        (point.time_unix_nano, point.as_double)
        for point in metric.sum.data_points
        if {kv.key: kv.value.string_value for kv in point.attributes}.get("customer.id")
        == "cust-123"
        and {kv.key: kv.value.string_value for kv in point.attributes}["db.client.connection.state"]
        == "used"
    ]
    assert len(used) == 30
    assert metric.sum.is_monotonic is False
    assert used[0][1] < 95
    assert used[-1][1] == 95


def test_fault_alert_payload_shape():
    alert = fault_alert(POOL_FAULT)

    payload = webhook_payload([alert])

    assert payload["version"] == "4"
    assert payload["status"] == "firing"
    assert payload["groupKey"] == '{}:{alertname="DatabasePoolExhausted"}'
    assert payload["commonLabels"]["customer_id"] == "cust-123"
    assert alert["labels"] == {
        "alertname": "DatabasePoolExhausted",
        "severity": "critical",
        "agent": "WowMemory",
        "customer_id": "cust-123",
    }
    assert alert["startsAt"] == "2026-01-01T12:15:00Z"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert["fingerprint"] == alert_fingerprint(labels=alert["labels"])


def test_restart_fails_has_no_alert():
    fault = Fault("fault-3", "restart_fails", "WowCache", None, NOW)

    assert fault_alert(fault) is None


def test_fingerprint_matches_helpdesk():
    labels = {"alertname": "QueueBacklog", "agent": "WowOrchestrator"}

    assert labels_fingerprint(labels) == alert_fingerprint(labels=labels)


def test_platform_exports_metrics(platform, helpdesk_sink):
    assert wait_for(lambda: "/v1/metrics" in helpdesk_sink.otlp_posts)


def test_fault_fires_then_resolves(control: ControlClient, platform, helpdesk_sink):
    fault = control.post(
        "/v1/faults", {"kind": "cache_corruption", "customer_id": "cust-456"}
    ).json()
    cleared = control.delete(f"/v1/faults/{fault['fault_id']}")

    def alerts_for_fault():
        return [
            alert
            for payload in helpdesk_sink.alert_payloads
            for alert in payload["alerts"]
            if alert["annotations"]["fault_id"] == fault["fault_id"]
        ]

    assert cleared.status_code == 200
    assert wait_for(lambda: len(alerts_for_fault()) == 2)
    firing, resolved = alerts_for_fault()
    assert firing["status"] == "firing"
    assert firing["labels"]["alertname"] == "CacheSegmentCorrupt"
    assert resolved["status"] == "resolved"
    assert resolved["fingerprint"] == firing["fingerprint"]
    assert resolved["endsAt"] != "0001-01-01T00:00:00Z"


def test_start_announces_world_alerts(platform, helpdesk_sink):
    def story_alert():
        return [
            alert
            for payload in helpdesk_sink.alert_payloads
            for alert in payload["alerts"]
            if alert["labels"].get("customer_id") == "cust-123"
        ]

    assert wait_for(lambda: len(story_alert()) == 1)
    assert story_alert()[0]["labels"]["alertname"] == "DatabasePoolExhausted"
    assert story_alert()[0]["status"] == "firing"
