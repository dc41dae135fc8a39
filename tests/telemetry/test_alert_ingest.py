"""The Alertmanager webhook receiver: payload v4, upsert by fingerprint, per-alert rejection."""

import copy
import datetime as dt

import pytest

from telemetry import selectors
from telemetry.alert_ingest import alert_fingerprint
from telemetry.models import Alert, IngestCounter
from tests.factories import CustomerFactory
from tests.telemetry.otlp_builders import INGEST_HEADERS

pytestmark = pytest.mark.django_db

URL = "/api/platform/helpdesk/ingest/alerts"
STARTS_AT = "2026-01-01T12:07:00Z"


def pool_alert(*, status: str = "firing", ends_at: str = "0001-01-01T00:00:00Z") -> dict:
    return {
        "status": status,
        "labels": {
            "alertname": "DatabasePoolExhausted",
            "severity": "critical",
            "agent": "WowMemory",
            "customer_id": "cust-123",
            "pool": "wowmemory-primary",
        },
        "annotations": {
            "summary": "WowMemory connection pool wowmemory-primary is exhausted (95/100 in use)",
            "runbook_url": "https://runbooks.example.com/db-pool",
        },
        "startsAt": STARTS_AT,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=pool",
        "fingerprint": "9a1f3c5e7b2d4f60",
    }


def payload(*alerts: dict, status: str = "firing") -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DatabasePoolExhausted"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "helpdesk",
        "groupLabels": {"alertname": "DatabasePoolExhausted"},
        "commonLabels": {"alertname": "DatabasePoolExhausted"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": list(alerts),
    }


def post(client, body, headers=None):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers=INGEST_HEADERS if headers is None else headers,
    )


def test_firing_alert_stored(client):
    response = post(client, payload(pool_alert()))

    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "rejected": []}
    alert = Alert.objects.get()
    assert alert.fingerprint == "9a1f3c5e7b2d4f60"
    assert alert.name == "DatabasePoolExhausted"
    assert alert.status == Alert.Status.FIRING
    assert alert.severity == "critical"
    assert alert.summary == (
        "WowMemory connection pool wowmemory-primary is exhausted (95/100 in use)"
    )
    assert alert.agent.name == "WowMemory"
    assert alert.customer.customer_id == "cust-123"
    assert alert.starts_at == dt.datetime(2026, 1, 1, 12, 7, tzinfo=dt.UTC)
    assert alert.ends_at is None
    assert alert.receiver == "helpdesk"
    assert alert.external_url == "http://alertmanager.example.com:9093"
    assert alert.labels["pool"] == "wowmemory-primary"


def test_resolved_updates_same_row(client):
    post(client, payload(pool_alert()))

    response = post(
        client,
        payload(pool_alert(status="resolved", ends_at="2026-01-01T12:20:00Z"), status="resolved"),
    )

    assert response.status_code == 200
    alert = Alert.objects.get()
    assert alert.status == Alert.Status.RESOLVED
    assert alert.ends_at == dt.datetime(2026, 1, 1, 12, 20, tzinfo=dt.UTC)


def test_late_firing_keeps_resolved(client):
    post(client, payload(pool_alert(status="resolved", ends_at="2026-01-01T12:20:00Z")))

    post(client, payload(pool_alert()))

    assert Alert.objects.get().status == Alert.Status.RESOLVED


def test_new_occurrence_fires_again(client):
    post(client, payload(pool_alert(status="resolved", ends_at="2026-01-01T12:20:00Z")))
    again = pool_alert()
    again["startsAt"] = "2026-01-01T13:00:00Z"

    post(client, payload(again))

    alert = Alert.objects.get()
    assert alert.status == Alert.Status.FIRING
    assert alert.ends_at is None
    assert alert.starts_at == dt.datetime(2026, 1, 1, 13, tzinfo=dt.UTC)


def test_bad_alert_rejected_alone(client):
    no_name = pool_alert()
    del no_name["labels"]["alertname"]
    no_name["fingerprint"] = "0000000000000001"
    bad_status = copy.deepcopy(pool_alert())
    bad_status["status"] = "pending"
    bad_status["fingerprint"] = "0000000000000002"
    naive_time = pool_alert()
    naive_time["startsAt"] = "2026-01-01T12:07:00"
    naive_time["fingerprint"] = "0000000000000003"

    response = post(client, payload(no_name, pool_alert(), bad_status, naive_time, "text"))

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [item["index"] for item in body["rejected"]] == [0, 2, 3, 4]
    assert body["rejected"][0]["message"] == (
        "alerts[0]: labels.alertname is missing: every alert needs an alertname label."
    )
    assert body["rejected"][1]["message"].startswith("alerts[2]: status is invalid")
    assert body["rejected"][2]["message"] == (
        "alerts[3]: time has no time zone: send RFC 3339 with Z or an offset."
    )
    assert body["rejected"][3]["message"] == "alerts[4]: alert is str: send a JSON object."
    assert Alert.objects.get().fingerprint == "9a1f3c5e7b2d4f60"
    assert IngestCounter.objects.get(name="alerts_rejected").value == 4


def test_missing_fingerprint_computed(client):
    alert = pool_alert()
    del alert["fingerprint"]

    post(client, payload(alert))

    assert Alert.objects.get().fingerprint == alert_fingerprint(labels=alert["labels"])


def test_fingerprint_ignores_label_order():
    labels = {"alertname": "QueueBacklog", "agent": "WowOrchestrator"}

    forward = alert_fingerprint(labels=labels)
    backward = alert_fingerprint(labels=dict(reversed(labels.items())))

    assert forward == backward
    assert len(forward) == 16
    assert forward != alert_fingerprint(labels={"alertname": "QueueBacklog"})


def test_empty_labels_fingerprint_is_offset():
    # prometheus/common returns the FNV-1a 64 offset basis for an empty label set.
    assert alert_fingerprint(labels={}) == "cbf29ce484222325"


def test_alerts_without_token_rejected(client):
    response = post(client, payload(pool_alert()), headers={})

    assert response.status_code == 401
    assert Alert.objects.count() == 0


def test_body_without_alerts_rejected(client):
    response = post(client, {"version": "4"})

    assert response.status_code == 400
    assert response.json() == {
        "message": 'Body must be a JSON object with an "alerts" list.',
        "errors": [],
    }


def test_unknown_version_rejected(client):
    body = payload(pool_alert())
    body["version"] = "5"

    response = post(client, body)

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Payload version '5' is not supported: send Alertmanager's webhook payload version 4."
    )
    assert Alert.objects.count() == 0


def test_invalid_json_rejected(client):
    response = post(client, b"{not json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("The request body is not valid JSON: ")


def test_firing_list_scoped_to_customer(client):
    customer = CustomerFactory(customer_id="cust-123")
    CustomerFactory(customer_id="cust-456")
    other = pool_alert()
    other["labels"]["customer_id"] = "cust-456"
    other["fingerprint"] = "00000000000000aa"
    platform = pool_alert()
    platform["labels"] = {"alertname": "QueueBacklog", "service": "WowOrchestrator"}
    platform["fingerprint"] = "00000000000000bb"
    platform["startsAt"] = "2026-01-01T12:00:00Z"
    post(client, payload(pool_alert(), other, platform))

    firing = selectors.alerts_firing_list(customer=customer)

    assert [alert.fingerprint for alert in firing] == ["9a1f3c5e7b2d4f60", "00000000000000bb"]
    assert firing[1].agent.name == "WowOrchestrator"
