"""Builders of OTLP export requests for the telemetry tests, with the demo story's defaults."""

import datetime as dt
import gzip
import secrets

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

INGEST_HEADERS = {"Authorization": "Bearer demo-ingest-token"}
PROTOBUF = "application/x-protobuf"
START = dt.datetime(2026, 1, 1, 12, 5, 30, tzinfo=dt.UTC)


def nanos(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def any_value(value) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


def key_values(attributes: dict) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attributes.items()]


def span_build(
    *,
    attributes: dict | None = None,
    name: str = "store_context",
    start: dt.datetime = START,
    duration_ms: int = 85,
    trace_id: bytes | None = None,
    span_id: bytes | None = None,
    parent_span_id: bytes = b"",
    error: str = "",
) -> Span:
    """Build a span for cust-123 on WowMemory, failed with the given message when error is set."""
    span = Span(
        trace_id=trace_id if trace_id is not None else secrets.token_bytes(16),
        span_id=span_id if span_id is not None else secrets.token_bytes(8),
        parent_span_id=parent_span_id,
        name=name,
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=nanos(start),
        end_time_unix_nano=nanos(start + dt.timedelta(milliseconds=duration_ms)),
        attributes=key_values(
            {"customer.id": "cust-123", "gen_ai.agent.name": "WowMemory", **(attributes or {})}
        ),
    )
    if error:
        span.status.code = Status.STATUS_CODE_ERROR
        span.status.message = error
    return span


def trace_request_build(*spans: Span, resource: dict | None = None) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        key_values(resource or {"service.name": "wow-memory"})
    )
    resource_spans.scope_spans.add().spans.extend(spans)
    return request


def log_build(
    *,
    body: str = "Connecting to database...",
    moment: dt.datetime = START,
    trace_id: bytes = b"",
    span_id: bytes = b"",
    severity_number: int = 9,
    attributes: dict | None = None,
) -> LogRecord:
    return LogRecord(
        time_unix_nano=nanos(moment),
        observed_time_unix_nano=nanos(moment),
        severity_number=severity_number,
        body=AnyValue(string_value=body),
        trace_id=trace_id,
        span_id=span_id,
        attributes=key_values(attributes or {}),
    )


def logs_request_build(
    *records: LogRecord, resource: dict | None = None
) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(key_values(resource or {"service.name": "wow-memory"}))
    resource_logs.scope_logs.add().log_records.extend(records)
    return request


def otlp_post(client, path: str, request, *, compress: bool = False, headers=None):
    """POST a protobuf export request the way OpenTelemetry's OTLP/HTTP exporters do."""
    body = request.SerializeToString()
    extra = dict(INGEST_HEADERS if headers is None else headers)
    if compress:
        body = gzip.compress(body)
        extra["Content-Encoding"] = "gzip"
    return client.post(path, data=body, content_type=PROTOBUF, headers=extra)


def gauge_point(
    value: float, *, attributes: dict | None = None, moment: dt.datetime = START
) -> NumberDataPoint:
    return NumberDataPoint(
        as_double=value, time_unix_nano=nanos(moment), attributes=key_values(attributes or {})
    )


def metrics_request_build(
    *metrics: Metric, resource: dict | None = None
) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.extend(
        key_values(resource or {"service.name": "WowMemory"})
    )
    resource_metrics.scope_metrics.add().metrics.extend(metrics)
    return request


def gauge_build(name: str, *points: NumberDataPoint, unit: str = "1") -> Metric:
    metric = Metric(name=name, unit=unit)
    metric.gauge.data_points.extend(points)
    return metric


def sum_build(
    name: str, *points: NumberDataPoint, monotonic: bool = False, unit: str = "{connection}"
) -> Metric:
    metric = Metric(name=name, unit=unit)
    metric.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    metric.sum.is_monotonic = monotonic
    metric.sum.data_points.extend(points)
    return metric


def pool_metrics_build(
    *, used: float, maximum: float = 100, customer_id: str | None = None, moment=START
) -> list[Metric]:
    """Build db.client.connection.count (used and idle) and .max for WowMemory's pool."""
    scope = {"db.client.connection.pool.name": "wowmemory-primary"}
    if customer_id:
        scope["customer.id"] = customer_id
    count = sum_build(
        "db.client.connection.count",
        gauge_point(
            used, attributes={**scope, "db.client.connection.state": "used"}, moment=moment
        ),
        gauge_point(
            maximum - used,
            attributes={**scope, "db.client.connection.state": "idle"},
            moment=moment,
        ),
    )
    limit = sum_build(
        "db.client.connection.max", gauge_point(maximum, attributes=scope, moment=moment)
    )
    return [count, limit]
