"""Alerts the platform's monitoring fires for active faults, in Alertmanager's webhook format.

The demo has no Prometheus or Alertmanager. The platform builds the notifications Alertmanager
would send (webhook payload version 4): a firing alert when a fault starts and a resolved alert
when it is cleared or a restart clears it.
"""

from datetime import datetime

from demo_platform.events import EventSender, isoformat
from demo_platform.workflow import FAULT_KINDS
from demo_platform.world import Fault

ALERTS_PATH = "/api/platform/helpdesk/ingest/alerts"
RECEIVER = "helpdesk"
# Go's zero time, which Alertmanager writes as the end of a firing alert.
NO_END = "0001-01-01T00:00:00Z"
# FNV-1a 64-bit, as prometheus/common's model.LabelSet.Fingerprint uses (model/signature.go).
FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
LABEL_SEPARATOR = 0xFF


def labels_fingerprint(labels: dict[str, str]) -> str:
    """Return the fingerprint Alertmanager gives this label set, as 16 hex digits."""
    digest = FNV_OFFSET
    for name in sorted(labels):
        data = name.encode() + bytes([LABEL_SEPARATOR]) + labels[name].encode()
        for byte in data + bytes([LABEL_SEPARATOR]):
            digest = ((digest ^ byte) * FNV_PRIME) % 2**64
    return f"{digest:016x}"


def fault_alert(fault: Fault, *, resolved_at: datetime | None = None) -> dict | None:
    """Build the alert of a fault, resolved when resolved_at is given; None for no alert."""
    kind = FAULT_KINDS[fault.kind]
    if not kind.alert_name:
        return None

    labels = {"alertname": kind.alert_name, "severity": kind.alert_severity, "agent": fault.agent}
    if fault.customer_id is not None:
        labels["customer_id"] = fault.customer_id
    return {
        "status": "firing" if resolved_at is None else "resolved",
        "labels": labels,
        "annotations": {
            "summary": kind.alert_summary,
            "description": kind.description,
            "fault_id": fault.fault_id,
        },
        "startsAt": isoformat(fault.created_at),
        "endsAt": NO_END if resolved_at is None else isoformat(resolved_at),
        "generatorURL": "",
        "fingerprint": labels_fingerprint(labels),
    }


def webhook_payload(alerts: list[dict]) -> dict:
    """Wrap alerts in one webhook notification, grouped as `group_by: [alertname]` would be."""
    names = sorted({alert["labels"]["alertname"] for alert in alerts})
    group_labels = {"alertname": names[0]} if len(names) == 1 else {}
    firing = any(alert["status"] == "firing" for alert in alerts)
    return {
        "version": "4",
        "groupKey": "{}:{" + ",".join(f'alertname="{name}"' for name in names) + "}",
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": RECEIVER,
        "groupLabels": group_labels,
        "commonLabels": _common(alert["labels"] for alert in alerts),
        "commonAnnotations": _common(alert["annotations"] for alert in alerts),
        "externalURL": "",
        "alerts": alerts,
    }


def _common(mappings) -> dict:
    mappings = list(mappings)
    if not mappings:
        return {}
    first = mappings[0]
    return {
        key: value
        for key, value in first.items()
        if all(other.get(key) == value for other in mappings[1:])
    }


class AlertSender(EventSender):
    """Post alerts to the help desk's Alertmanager receiver, in order, batched per request."""

    PATH = ALERTS_PATH

    def body_for(self, batch: list[dict]) -> dict:
        return webhook_payload(batch)
