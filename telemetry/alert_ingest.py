"""Ingest of Prometheus Alertmanager webhook notifications (payload version 4).

Each alert is upserted by its fingerprint. Alertmanager resends an alert group while it fires and
once more when it resolves, so the stored row follows the latest notification of the alert's
latest occurrence.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from customers import services as customer_services
from telemetry.ingest import IngestResult, counters_add
from telemetry.models import Alert
from telemetry.values import identifier_check, json_nul_strip, nul_strip, time_check

logger = logging.getLogger(__name__)

WEBHOOK_VERSION = "4"
# Labels that name the agent an alert is about, in order of preference.
AGENT_LABELS = ("agent", "service")
CUSTOMER_LABEL = "customer_id"
MAX_LABEL_VALUE_CHARS = 128
# FNV-1a 64-bit, as prometheus/common's model.LabelSet.Fingerprint uses (model/signature.go).
FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
LABEL_SEPARATOR = 0xFF


class AlertPayloadError(ValueError):
    """A webhook body that is not an Alertmanager notification at all."""


class WebhookAlert(BaseModel):
    """One entry of the payload's alerts list, as Alertmanager's template.Alert sends it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: dt.datetime = Field(alias="startsAt")
    ends_at: dt.datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: Annotated[str, Field(max_length=64)] = ""

    @field_validator("labels")
    @classmethod
    def alertname_present(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels.get("alertname", "").strip():
            raise ValueError("labels.alertname is missing: every alert needs an alertname label")
        return labels

    @field_validator("starts_at", "ends_at")
    @classmethod
    def zone_present(cls, moment: dt.datetime | None) -> dt.datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("time has no time zone: send RFC 3339 with Z or an offset")
        return moment


@dataclass(frozen=True)
class Notification:
    """The group fields of one webhook payload, stored on each of its alerts."""

    receiver: str
    group_key: str
    external_url: str


def alert_payload_read(*, body: Any) -> tuple[Notification, list]:
    """Check the payload's envelope and return its group fields and raw alerts list."""
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        raise AlertPayloadError('Body must be a JSON object with an "alerts" list.')
    version = body.get("version", WEBHOOK_VERSION)
    if str(version) != WEBHOOK_VERSION:
        raise AlertPayloadError(
            f"Payload version {version!r} is not supported: send Alertmanager's webhook payload "
            f"version {WEBHOOK_VERSION}."
        )
    notification = Notification(
        receiver=_text(body.get("receiver")),
        group_key=_text(body.get("groupKey")),
        external_url=_text(body.get("externalURL")),
    )
    return notification, body["alerts"]


def _text(value: Any) -> str:
    return nul_strip(value).strip() if isinstance(value, str) else ""


def alerts_ingest(*, alerts: list, notification: Notification | None = None) -> IngestResult:
    """Upsert each valid alert by fingerprint, rejecting invalid alerts by their index."""
    notification = notification or Notification(receiver="", group_key="", external_url="")
    result = IngestResult()
    valid = []
    now = timezone.now()
    for index, item in enumerate(alerts):
        try:
            valid.append(_alert_validate(item=item, now=now))
        except ValueError as error:
            result.reject(index=index, message=f"alerts[{index}]: {error}")
            logger.info("Alert rejected", extra={"index": index, "error": str(error)})

    _alerts_store_with_retry(alerts=valid, notification=notification)
    result.accepted = len(valid)

    counters_add(counts={"alerts_accepted": result.accepted, "alerts_rejected": result.rejected})
    logger.info("Alerts ingested", extra={"stored": len(valid), "rejected": result.rejected})
    return result


def _alert_validate(*, item: Any, now: dt.datetime) -> WebhookAlert:
    """Validate one alert: ids checked, times in UTC and not ahead, NUL removed from text."""
    if not isinstance(item, dict):
        raise ValueError(f"alert is {type(item).__name__}: send a JSON object.")
    try:
        alert = WebhookAlert.model_validate(item)
    except ValidationError as error:
        raise ValueError(_validation_message(error)) from None
    for name in (CUSTOMER_LABEL, *AGENT_LABELS):
        value = alert.labels.get(name, "")
        if len(value) > MAX_LABEL_VALUE_CHARS:
            raise ValueError(
                f"labels.{name} is longer than {MAX_LABEL_VALUE_CHARS} characters: shorten it."
            )
        identifier_check(name=f"labels.{name}", value=value)
    identifier_check(name="fingerprint", value=alert.fingerprint)
    _times_check(alert=alert, now=now)

    if not alert.fingerprint:
        alert.fingerprint = alert_fingerprint(labels=alert.labels)
    alert.labels = json_nul_strip(alert.labels)
    alert.annotations = json_nul_strip(alert.annotations)
    alert.generator_url = nul_strip(alert.generator_url)
    return alert


def _times_check(*, alert: WebhookAlert, now: dt.datetime) -> None:
    """Convert the alert's times to UTC, rejecting times in the future.

    A firing alert's endsAt is not stored, and Alertmanager may set it ahead of the clock, so only a
    resolved alert's endsAt is checked.
    """
    alert.starts_at = time_check(name="startsAt", moment=alert.starts_at, now=now)
    if alert.status == Alert.Status.RESOLVED and alert.ends_at is not None:
        alert.ends_at = time_check(name="endsAt", moment=alert.ends_at, now=now)


def _validation_message(error: ValidationError) -> str:
    messages = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "alert"
        if detail["type"] == "missing":
            messages.append(f"{field} is missing: add it.")
        elif detail["type"] == "value_error":
            messages.append(f"{detail['msg'].removeprefix('Value error, ')}.")
        else:
            shown = repr(detail.get("input"))[:80]
            messages.append(f"{field} is invalid ({detail['msg']}); got {shown}.")
    return " ".join(messages)


def alert_fingerprint(*, labels: dict[str, str]) -> str:
    """Compute the fingerprint Alertmanager gives a label set, for payloads that leave it out."""
    digest = FNV_OFFSET
    for name in sorted(labels):
        for part in (name.encode(), bytes([LABEL_SEPARATOR]), labels[name].encode()):
            for byte in part:
                digest = ((digest ^ byte) * FNV_PRIME) % 2**64
        digest = ((digest ^ LABEL_SEPARATOR) * FNV_PRIME) % 2**64
    return f"{digest:016x}"


def _alerts_store_with_retry(*, alerts: list[WebhookAlert], notification: Notification) -> None:
    """Store alerts, retrying once when a concurrent request created one of them first."""
    try:
        with transaction.atomic():
            _alerts_store(alerts=alerts, notification=notification)
    except IntegrityError:
        logger.info("Alert batch raced a concurrent insert; retrying", extra={"count": len(alerts)})
        with transaction.atomic():
            _alerts_store(alerts=alerts, notification=notification)


ALERT_UPDATE_FIELDS = [
    "name",
    "status",
    "severity",
    "summary",
    "labels",
    "annotations",
    "starts_at",
    "ends_at",
    "generator_url",
    "agent",
    "customer",
    "receiver",
    "group_key",
    "external_url",
    "updated_at",
]


def _alerts_store(*, alerts: list[WebhookAlert], notification: Notification) -> None:
    if not alerts:
        return

    customers = customer_services.customers_ensure(
        customer_ids={a.labels[CUSTOMER_LABEL] for a in alerts if a.labels.get(CUSTOMER_LABEL)}
    )
    agents = customer_services.agents_ensure(names={_agent_name(a) for a in alerts} - {""})
    stored = {
        alert.fingerprint: alert
        for alert in Alert.objects.select_for_update().filter(
            fingerprint__in={a.fingerprint for a in alerts}
        )
    }
    existing = set(stored)

    for alert in alerts:
        row = stored.get(alert.fingerprint)
        if row is not None and _notification_is_stale(row=row, alert=alert):
            logger.info("Stale alert notification ignored", extra={"fingerprint": row.fingerprint})
            continue
        row = row or Alert(fingerprint=alert.fingerprint)
        _alert_apply(row=row, alert=alert, customers=customers, agents=agents)
        row.receiver = notification.receiver
        row.group_key = notification.group_key
        row.external_url = notification.external_url
        stored[alert.fingerprint] = row

    Alert.objects.bulk_create([row for key, row in stored.items() if key not in existing])
    Alert.objects.bulk_update(
        [row for key, row in stored.items() if key in existing], ALERT_UPDATE_FIELDS
    )


def _notification_is_stale(*, row: Alert, alert: WebhookAlert) -> bool:
    """Tell whether a notification is older than the stored one.

    An earlier occurrence (an older startsAt) is stale. So is a firing notice of an occurrence
    already resolved, because Alertmanager reports a new occurrence with a new startsAt.
    """
    if alert.starts_at < row.starts_at:
        return True
    return (
        alert.starts_at == row.starts_at
        and row.status == Alert.Status.RESOLVED
        and alert.status == Alert.Status.FIRING
    )


def _alert_apply(*, row: Alert, alert: WebhookAlert, customers, agents) -> None:
    labels = alert.labels
    annotations = alert.annotations
    row.name = labels["alertname"][:256]
    row.status = alert.status
    row.severity = labels.get("severity", "")[:32]
    row.summary = annotations.get("summary") or annotations.get("description", "")
    row.labels = labels
    row.annotations = annotations
    row.starts_at = alert.starts_at
    row.ends_at = _end_time(alert=alert)
    row.generator_url = alert.generator_url
    row.agent = agents.get(_agent_name(alert))
    row.customer = customers.get(labels.get(CUSTOMER_LABEL, ""))
    row.updated_at = dt.datetime.now(dt.UTC)


def _agent_name(alert: WebhookAlert) -> str:
    return next((alert.labels[name] for name in AGENT_LABELS if alert.labels.get(name)), "")


def _end_time(*, alert: WebhookAlert) -> dt.datetime | None:
    """Return when a resolved alert ended; firing alerts have none.

    Alertmanager writes Go's zero time, 0001-01-01T00:00:00Z, for an unset end.
    """
    if alert.status == Alert.Status.FIRING or alert.ends_at is None or alert.ends_at.year <= 1:
        return None
    return alert.ends_at
