"""JSON endpoints for the platform's state events and Alertmanager alerts, authenticated by an
ingest token."""

import logging

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from helpdesk import api_parser
from telemetry import services
from telemetry.alert_ingest import AlertPayloadError, alert_payload_read
from telemetry.request_body import RequestBodyError, request_body_read
from telemetry.views import ingest_token_valid

logger = logging.getLogger(__name__)

router = Router(tags=["ingest"])


class IngestTokenAuth(HttpBearer):
    """Bearer auth against settings.INGEST_TOKENS. Operator API tokens are not accepted here."""

    def authenticate(self, request, token: str):
        if ingest_token_valid(authorization=f"Bearer {token}"):
            return "platform"
        logger.info("Ingest token rejected", extra={"path": request.path})
        return None


class RejectedEvent(Schema):
    index: int
    message: str


class EventsIngestResponse(Schema):
    accepted: int
    rejected: list[RejectedEvent]


class ErrorResponse(Schema):
    message: str


# 411: chunked body on a server that cannot read one; 415: unsupported Content-Encoding.
ERROR_RESPONSES = dict.fromkeys((400, 411, 413, 415), ErrorResponse)


EVENTS_BODY_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "customer.upserted, trial.progress or agent.status event",
            },
        }
    },
}


@router.post(
    "/events",
    auth=IngestTokenAuth(),
    response={200: EventsIngestResponse, **ERROR_RESPONSES},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": EVENTS_BODY_SCHEMA}}}
    },
    summary="Ingest platform state events",
)
def events_ingest(request: HttpRequest):
    """Apply customer upserts, trial progress and agent status events, rejecting invalid ones."""
    body = _json_body_read(request=request)
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise HttpError(400, 'Body must be a JSON object with an "events" list.')
    result = services.platform_events_ingest(events=body["events"])
    return _ingest_response(result=result)


ALERTS_BODY_SCHEMA = {
    "type": "object",
    "required": ["alerts"],
    "description": "Prometheus Alertmanager webhook payload, version 4",
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "groupKey": {"type": "string"},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "receiver": {"type": "string"},
        "groupLabels": {"type": "object"},
        "commonLabels": {"type": "object"},
        "commonAnnotations": {"type": "object"},
        "externalURL": {"type": "string"},
        "alerts": {"type": "array", "items": {"type": "object"}},
    },
}


@router.post(
    "/alerts",
    auth=IngestTokenAuth(),
    response={200: EventsIngestResponse, **ERROR_RESPONSES},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": ALERTS_BODY_SCHEMA}}}
    },
    summary="Ingest Alertmanager webhook notifications",
)
def alerts_receive(request: HttpRequest):
    """Upsert the payload's alerts by fingerprint, rejecting invalid alerts one by one."""
    try:
        notification, alerts = alert_payload_read(body=_json_body_read(request=request))
    except AlertPayloadError as error:
        raise HttpError(400, str(error)) from error
    result = services.alerts_ingest(alerts=alerts, notification=notification)
    return _ingest_response(result=result)


def _ingest_response(*, result: services.IngestResult) -> dict:
    rejected = [{"index": item.index, "message": item.message} for item in result.rejected_items]
    return {"accepted": result.accepted, "rejected": rejected}


def _json_body_read(*, request: HttpRequest):
    """Read and parse the JSON body, gzip or deflate compressed or not.

    The body is read as on the OTLP endpoints, so chunked and compressed bodies and the size
    limit work the same there. It is parsed with the API's own JSON rules (nesting limit and
    messages), but here rather than by ninja, so that a malformed body returns 400, not 422.
    """
    try:
        body = request_body_read(request=request, max_bytes=settings.INGEST_MAX_BODY_BYTES)
    except RequestBodyError as error:
        logger.info(
            "Ingest body rejected",
            extra={"path": request.path, "status": error.status, "error": error.message},
        )
        raise HttpError(error.status, error.message) from error

    try:
        return api_parser.json_body_parse(body=body)
    except api_parser.RequestBodyError as error:
        logger.info("Ingest body rejected", extra={"path": request.path, "error": str(error)})
        raise HttpError(400, str(error)) from error
