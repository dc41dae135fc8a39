"""Conversion of OTLP spans and log records into plain records ready to store.

Each parse function either returns a record or raises InvalidItem with a message that names
the field and the fix. Ingest then rejects that item alone. Ids with control characters and times
in the future are rejected, and NUL characters are removed from free text (see telemetry.values).
"""

import datetime as dt
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as OtlpLogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from telemetry.values import (
    InvalidItem,
    identifier_check,
    json_nul_strip,
    nul_strip,
    time_from_nanos,
)

CUSTOMER_ID = "customer.id"
AGENT_NAME = "gen_ai.agent.name"
SERVICE_NAME = "service.name"
OPERATION = "gen_ai.operation.name"
REQUEST_BODY = "agent.request.body"
RESPONSE_BODY = "agent.response.body"
WORKFLOW_ID = "workflow.id"
WORKFLOW_STEP = "workflow.step"
ERROR_TYPE = "error.type"
RETRY_COUNT = "agent.retry.count"
EXCEPTION_EVENT = "exception"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_TYPE = "exception.type"

SPAN_FIELDS_READ = frozenset(
    {
        CUSTOMER_ID,
        AGENT_NAME,
        SERVICE_NAME,
        OPERATION,
        REQUEST_BODY,
        RESPONSE_BODY,
        WORKFLOW_ID,
        WORKFLOW_STEP,
        ERROR_TYPE,
        RETRY_COUNT,
    }
)
# OpenTelemetry's SDKs report a service without a configured name as "unknown_service".
UNKNOWN_SERVICE = "unknown_service"
# Matches "timeout" and any type ending in Timeout or TimeoutError, such as ConnectTimeout.
TIMEOUT_ERROR_TYPE = re.compile(r"timeout(error)?$", re.IGNORECASE)
# Limits of the columns the values land in.
MAX_ID_CHARS = 128
MAX_NAME_CHARS = 128
MAX_OPERATION_CHARS = 256
MAX_ERROR_TYPE_CHARS = 256
MAX_DURATION_MS = 2**31 - 1
MAX_SMALL_INT = 32767
# Severity names by OTLP severity number range (logs data model, "SeverityNumber").
SEVERITY_NAMES = (
    (21, "FATAL"),
    (17, "ERROR"),
    (13, "WARN"),
    (9, "INFO"),
    (5, "DEBUG"),
    (1, "TRACE"),
)


@dataclass
class SpanRecord:
    trace_id: str
    span_id: str
    parent_span_id: str
    customer_id: str | None
    agent_name: str
    service_name: str
    operation: str
    request_body: str
    response_body: str
    started_at: dt.datetime
    duration_ms: int
    status: str
    error_type: str
    error_message: str
    retry_count: int
    workflow_id: str
    workflow_step: int | None
    attributes: dict


@dataclass
class LogRow:
    trace_id: str
    span_id: str
    customer_id: str | None
    service_name: str
    timestamp: dt.datetime
    severity_number: int
    severity_text: str
    body: str
    attributes: dict


def any_value_to_python(value: AnyValue) -> Any:
    """Convert an OTLP AnyValue into a JSON-safe Python value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value_to_python(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_to_dict(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind == "double_value" and not math.isfinite(value.double_value):
        # JSON and PostgreSQL's jsonb have no NaN or infinity.
        return str(value.double_value)
    return getattr(value, kind)


def attributes_to_dict(attributes: Iterable[KeyValue]) -> dict:
    return {attribute.key: any_value_to_python(attribute.value) for attribute in attributes}


def text_of(value: Any) -> str:
    """Return a value as text: strings without NUL characters, anything else as JSON.

    Ids are read with raw_text_of instead, so that a NUL in an id is rejected, not removed.
    """
    return nul_strip(raw_text_of(value))


def raw_text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def status_classify(*, error_type: str, status_code: int) -> str:
    """Classify a span as success, failed or timeout from its status and error.type."""
    if error_type and TIMEOUT_ERROR_TYPE.search(error_type):
        return "timeout"
    if status_code == Status.STATUS_CODE_ERROR or error_type:
        return "failed"
    return "success"


def span_parse(*, span: Span, resource: dict, now: dt.datetime) -> SpanRecord:
    """Convert one span, reading each attribute from the span first and the resource second.

    `now` is the server clock, against which start and end times are checked.
    """
    trace_id = _id_hex(value=span.trace_id, name="traceId", size=16, required=True)
    span_id = _id_hex(value=span.span_id, name="spanId", size=8, required=True)
    parent_span_id = _id_hex(value=span.parent_span_id, name="parentSpanId", size=8, required=False)
    started_at, duration_ms = _span_times(span=span, now=now)

    attributes = {**resource, **attributes_to_dict(span.attributes)}
    customer_id = customer_id_read(attributes=attributes)
    exception = _exception_attributes(span=span)
    error_type = text_of(attributes.get(ERROR_TYPE) or exception.get(EXCEPTION_TYPE))
    error_message = nul_strip(span.status.message) or text_of(exception.get(EXCEPTION_MESSAGE))
    service_name = raw_text_of(resource.get(SERVICE_NAME)) or UNKNOWN_SERVICE
    agent_name = agent_name_read(attributes=attributes, service_name=service_name)
    service_name = nul_strip(service_name)
    workflow_id = identifier_check(name=WORKFLOW_ID, value=raw_text_of(attributes.get(WORKFLOW_ID)))
    operation = text_of(attributes.get(OPERATION)) or nul_strip(span.name)

    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_span_id,
        customer_id=customer_id,
        agent_name=agent_name,
        service_name=service_name[:MAX_OPERATION_CHARS],
        operation=operation[:MAX_OPERATION_CHARS],
        request_body=text_of(attributes.get(REQUEST_BODY)),
        response_body=text_of(attributes.get(RESPONSE_BODY)),
        started_at=started_at,
        duration_ms=duration_ms,
        status=status_classify(error_type=error_type, status_code=span.status.code),
        error_type=error_type[:MAX_ERROR_TYPE_CHARS],
        error_message=error_message,
        retry_count=_small_int(attributes.get(RETRY_COUNT)) or 0,
        workflow_id=workflow_id,
        workflow_step=_small_int(attributes.get(WORKFLOW_STEP)),
        attributes=json_nul_strip(
            {key: value for key, value in attributes.items() if key not in SPAN_FIELDS_READ}
        ),
    )


def log_parse(*, record: OtlpLogRecord, resource: dict, now: dt.datetime) -> LogRow:
    """Convert one log record, using the observed time when it has no time, as OTLP allows."""
    trace_id = _id_hex(value=record.trace_id, name="traceId", size=16, required=False)
    span_id = _id_hex(value=record.span_id, name="spanId", size=8, required=False)
    time_field = "timeUnixNano" if record.time_unix_nano else "observedTimeUnixNano"
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    if not nanos:
        raise InvalidItem(
            "timeUnixNano and observedTimeUnixNano are both missing: set the record's time."
        )
    timestamp = time_from_nanos(name=time_field, nanos=nanos, now=now)

    attributes = {**resource, **attributes_to_dict(record.attributes)}
    if record.event_name:
        attributes["event.name"] = record.event_name
    customer_id = customer_id_read(attributes=attributes)

    return LogRow(
        trace_id=trace_id,
        span_id=span_id,
        customer_id=customer_id,
        service_name=text_of(resource.get(SERVICE_NAME))[:MAX_OPERATION_CHARS],
        timestamp=timestamp,
        severity_number=record.severity_number,
        severity_text=nul_strip(record.severity_text or severity_name(record.severity_number))[:32],
        body=text_of(any_value_to_python(record.body)),
        attributes=json_nul_strip(
            {
                key: value
                for key, value in attributes.items()
                if key not in (CUSTOMER_ID, SERVICE_NAME)
            }
        ),
    )


def severity_name(number: int) -> str:
    for lowest, name in SEVERITY_NAMES:
        if number >= lowest:
            return name
    return ""


def _id_hex(*, value: bytes, name: str, size: int, required: bool) -> str:
    if not value and not required:
        return ""
    if len(value) != size:
        raise InvalidItem(
            f"{name} is {len(value)} bytes: send {size} bytes ({size * 2} hex digits)."
        )
    if not any(value):
        raise InvalidItem(f"{name} is all zeros: send a non-zero id.")
    return value.hex()


def _span_times(*, span: Span, now: dt.datetime) -> tuple[dt.datetime, int]:
    if not span.start_time_unix_nano:
        raise InvalidItem("startTimeUnixNano is missing: set the span's start time.")
    if not span.end_time_unix_nano:
        raise InvalidItem("endTimeUnixNano is missing: export the span after it ends.")
    if span.end_time_unix_nano < span.start_time_unix_nano:
        raise InvalidItem("endTimeUnixNano is before startTimeUnixNano: check the span's clock.")
    started_at = time_from_nanos(name="startTimeUnixNano", nanos=span.start_time_unix_nano, now=now)
    time_from_nanos(name="endTimeUnixNano", nanos=span.end_time_unix_nano, now=now)

    duration_ms = round((span.end_time_unix_nano - span.start_time_unix_nano) / 1_000_000)
    return started_at, min(duration_ms, MAX_DURATION_MS)


def customer_id_read(*, attributes: dict) -> str | None:
    """Read customer.id, rejecting an id that is too long or contains control characters."""
    customer_id = raw_text_of(attributes.get(CUSTOMER_ID)).strip()
    if len(customer_id) > MAX_ID_CHARS:
        raise InvalidItem(
            f"{CUSTOMER_ID} is {len(customer_id)} characters: send at most {MAX_ID_CHARS}."
        )
    return identifier_check(name=CUSTOMER_ID, value=customer_id) or None


def agent_name_read(*, attributes: dict, service_name: str) -> str:
    """Read gen_ai.agent.name, else service_name, rejecting a name with control characters."""
    agent_name = raw_text_of(attributes.get(AGENT_NAME))
    name = AGENT_NAME if agent_name else SERVICE_NAME
    return identifier_check(name=name, value=agent_name or service_name)[:MAX_NAME_CHARS]


def _exception_attributes(*, span: Span) -> dict:
    for event in span.events:
        if event.name == EXCEPTION_EVENT:
            return attributes_to_dict(event.attributes)
    return {}


def _small_int(value: Any) -> int | None:
    """Read a non-negative small integer, sent as a number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if 0 <= number <= MAX_SMALL_INT:
        return number
    return None
