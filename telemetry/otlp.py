"""OTLP/HTTP request decoding and response encoding, shared by every signal's receiver.

Follows the OTLP/HTTP specification (OpenTelemetry protocol 1.x): protobuf or JSON bodies,
an Export*ServiceResponse on success and a google.rpc.Status on failure, each in the request's
content type. telemetry.request_body reads and decompresses the bodies.
"""

import base64
import binascii
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from telemetry.request_body import RequestBodyError, json_parse

logger = logging.getLogger(__name__)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = {PROTOBUF: PROTOBUF, "application/protobuf": PROTOBUF, JSON: JSON}

# OTLP/JSON writes these bytes fields as hex, where proto3 JSON expects base64.
HEX_ID_FIELDS = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)
HEX_PATTERN = re.compile(r"(?:[0-9a-fA-F]{2})*")


class OtlpError(RequestBodyError):
    """A request the receiver rejects whole, with the HTTP status to return."""


@dataclass(frozen=True)
class OtlpSignal:
    """Settings that differ between the traces, logs and metrics receivers."""

    name: str
    request_class: type[Message]
    response_class: type[Message]
    # JSON keys from the request down to one item (span, log record, metric).
    item_path: tuple[str, str, str]
    rejected_field: str


TRACES = OtlpSignal(
    name="traces",
    request_class=trace_service_pb2.ExportTraceServiceRequest,
    response_class=trace_service_pb2.ExportTraceServiceResponse,
    item_path=("resourceSpans", "scopeSpans", "spans"),
    rejected_field="rejected_spans",
)
LOGS = OtlpSignal(
    name="logs",
    request_class=logs_service_pb2.ExportLogsServiceRequest,
    response_class=logs_service_pb2.ExportLogsServiceResponse,
    item_path=("resourceLogs", "scopeLogs", "logRecords"),
    rejected_field="rejected_log_records",
)
METRICS = OtlpSignal(
    name="metrics",
    request_class=metrics_service_pb2.ExportMetricsServiceRequest,
    response_class=metrics_service_pb2.ExportMetricsServiceResponse,
    item_path=("resourceMetrics", "scopeMetrics", "metrics"),
    rejected_field="rejected_data_points",
)


@dataclass
class DecodedRequest:
    """A decoded export request and the items dropped while decoding it."""

    message: Message
    content_type: str
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def content_type_parse(*, header: str) -> str:
    """Return the canonical media type for a Content-Type header, or raise a 415 OtlpError."""
    media_type = header.split(";", 1)[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise OtlpError(
            415,
            f"Unsupported content type {media_type or '(none)'!r}: send {PROTOBUF} or {JSON}.",
        )
    return CONTENT_TYPES[media_type]


def request_decode(*, signal: OtlpSignal, body: bytes, content_type: str) -> DecodedRequest:
    """Decode an export request, or raise a 400 OtlpError naming what is malformed.

    In JSON, an item whose id is not hex is dropped and reported, because proto3 JSON cannot
    carry it; the items beside it are kept.
    """
    if content_type == PROTOBUF:
        try:
            message = signal.request_class.FromString(body)
        except DecodeError as error:
            raise OtlpError(
                400, f"Body is not a valid protobuf {signal.request_class.__name__}: {error}."
            ) from error
        return DecodedRequest(message=message, content_type=content_type)

    document = _json_load(body=body)
    decoded = DecodedRequest(message=signal.request_class(), content_type=content_type)
    _hex_ids_convert(signal=signal, document=document, decoded=decoded)
    try:
        json_format.ParseDict(document, decoded.message, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise OtlpError(
            400, f"Body is not a valid OTLP/JSON {signal.name} request: {error}."
        ) from error
    return decoded


def _json_load(*, body: bytes) -> dict:
    document = json_parse(body=body)
    if not isinstance(document, dict):
        raise OtlpError(400, "Body must be a JSON object.")
    return document


def _items(*, signal: OtlpSignal, document: dict) -> Iterator[tuple[str, list, int]]:
    """Yield (path, containing list, index) for each item.

    Indexes run from last to first within a list, so the caller can delete the item it is given.
    """
    outer_key, middle_key, item_key = signal.item_path
    for outer_index, outer in enumerate(_list(document.get(outer_key))):
        for middle_index, middle in enumerate(_list(_dict(outer).get(middle_key))):
            items = _list(_dict(middle).get(item_key))
            for item_index in reversed(range(len(items))):
                path = (
                    f"{outer_key}[{outer_index}].{middle_key}[{middle_index}]"
                    f".{item_key}[{item_index}]"
                )
                yield path, items, item_index


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _hex_ids_convert(*, signal: OtlpSignal, document: dict, decoded: DecodedRequest) -> None:
    # NOTE: ingest numbers the remaining items after these are removed, so a later error's
    # index can be lower than the item's index in the body that was sent.
    for path, items, index in _items(signal=signal, document=document):
        try:
            _hex_ids_in(items[index])
        except ValueError as error:
            del items[index]
            decoded.rejected += 1
            decoded.errors.append(f"{path}: {error}")
            logger.info("OTLP item with a non-hex id dropped", extra={"path": path})


def _hex_ids_in(value: Any) -> None:
    """Rewrite hex id fields in place as base64, recursing into links, events and exemplars."""
    if isinstance(value, list):
        for item in value:
            _hex_ids_in(item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in HEX_ID_FIELDS and isinstance(item, str):
            value[key] = _hex_to_base64(key=key, text=item)
        else:
            _hex_ids_in(item)


def _hex_to_base64(*, key: str, text: str) -> str:
    if not HEX_PATTERN.fullmatch(text):
        raise ValueError(f"{key} {text[:64]!r} is not hex: send the id as hex digits.")
    return base64.b64encode(bytes.fromhex(text)).decode("ascii")


def response_encode(*, message: Message, content_type: str) -> bytes:
    if content_type == PROTOBUF:
        return message.SerializeToString()
    return json_format.MessageToJson(message, indent=None).encode()


def export_response(*, signal: OtlpSignal, rejected: int, errors: list[str]) -> Message:
    """Build an Export*ServiceResponse, with partial_success set only when items were rejected."""
    response = signal.response_class()
    if rejected:
        setattr(response.partial_success, signal.rejected_field, rejected)
        response.partial_success.error_message = error_message_join(errors=errors)
    return response


def error_message_join(*, errors: list[str], limit: int = 20) -> str:
    """Join per-item errors into one message, naming how many were left out past limit."""
    shown = "; ".join(errors[:limit])
    if len(errors) > limit:
        shown += f"; and {len(errors) - limit} more"
    return shown


def status_message(*, status: int, message: str) -> Message:
    """Build the google.rpc.Status body OTLP/HTTP sends with a failure response."""
    codes = {
        400: code_pb2.INVALID_ARGUMENT,
        401: code_pb2.UNAUTHENTICATED,
        411: code_pb2.INVALID_ARGUMENT,
        413: code_pb2.INVALID_ARGUMENT,
        415: code_pb2.INVALID_ARGUMENT,
    }
    return status_pb2.Status(code=codes.get(status, code_pb2.UNKNOWN), message=message)


def ids_hex(value: bytes) -> str:
    return binascii.hexlify(value).decode("ascii")
