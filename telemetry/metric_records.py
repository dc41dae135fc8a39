"""Conversion of OTLP metric data points into plain records ready to store.

`metric_point_parse` returns a record, returns None for a point the sender marked as having no
recorded value, or raises InvalidItem with a message that names the field and the fix.
"""

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    DataPointFlags,
    Metric,
)

from telemetry.records import (
    AGENT_NAME,
    CUSTOMER_ID,
    MAX_OPERATION_CHARS,
    SERVICE_NAME,
    UNKNOWN_SERVICE,
    InvalidItem,
    agent_name_read,
    attributes_to_dict,
    customer_id_read,
    raw_text_of,
)
from telemetry.values import json_nul_strip, nul_strip, time_from_nanos

MAX_METRIC_NAME_CHARS = 256
MAX_UNIT_CHARS = 64
# JSON names of Metric's data oneof, used in the paths of error messages.
KIND_JSON_NAMES = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponential_histogram": "exponentialHistogram",
    "summary": "summary",
}
TEMPORALITIES = {
    AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA: "delta",
    AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE: "cumulative",
}
NO_RECORDED_VALUE = DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK


@dataclass
class MetricPoint:
    name: str
    kind: str
    unit: str
    agent_name: str
    service_name: str
    customer_id: str | None
    attributes: dict
    series: str
    timestamp: dt.datetime
    start_timestamp: dt.datetime | None
    value: float
    count: int | None = None
    sum: float | None = None
    buckets: dict | None = None
    temporality: str = ""
    is_monotonic: bool = False


def metric_kind(metric: Metric) -> str | None:
    """Return which data a metric carries (gauge, sum, histogram, ...), or None for none."""
    return metric.WhichOneof("data")


def metric_point_parse(
    *, metric: Metric, kind: str, point: Any, resource: dict, now: dt.datetime
) -> MetricPoint | None:
    """Convert one data point of `metric`, reading agent and customer from point, then resource.

    `now` is the server clock, against which the point's times are checked.
    """
    if point.flags & NO_RECORDED_VALUE:
        return None
    name = _metric_name(metric=metric)
    if not point.time_unix_nano:
        raise InvalidItem("timeUnixNano is missing: set the data point's time.")
    timestamp = time_from_nanos(name="timeUnixNano", nanos=point.time_unix_nano, now=now)
    start_timestamp = None
    if point.start_time_unix_nano:
        start_timestamp = time_from_nanos(
            name="startTimeUnixNano", nanos=point.start_time_unix_nano, now=now
        )

    attributes = attributes_to_dict(point.attributes)
    scoped = {**resource, **attributes}
    customer_id = customer_id_read(attributes=scoped)
    service_name = raw_text_of(resource.get(SERVICE_NAME))
    agent_name = agent_name_read(attributes=scoped, service_name=service_name or UNKNOWN_SERVICE)
    attributes = {k: v for k, v in attributes.items() if k not in (CUSTOMER_ID, AGENT_NAME)}

    record = MetricPoint(
        name=name,
        kind=kind,
        unit=nul_strip(metric.unit)[:MAX_UNIT_CHARS],
        agent_name=agent_name,
        service_name=nul_strip(service_name)[:MAX_OPERATION_CHARS],
        customer_id=customer_id,
        attributes=json_nul_strip(attributes),
        series="",
        timestamp=timestamp,
        start_timestamp=start_timestamp,
        value=0.0,
    )
    _values_read(record=record, metric=metric, point=point)
    record.series = series_key(
        name=name,
        kind=kind,
        agent_name=record.agent_name,
        customer_id=customer_id,
        attributes=attributes,
    )
    return record


def series_key(
    *, name: str, kind: str, agent_name: str, customer_id: str | None, attributes: dict
) -> str:
    """Return a 32-hex-digit hash that names one time series."""
    identity = json.dumps([name, kind, agent_name, customer_id, attributes], sort_keys=True)
    return hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()


def _metric_name(*, metric: Metric) -> str:
    name = nul_strip(metric.name).strip()
    if not name:
        raise InvalidItem("name is missing: set the metric's name.")
    if len(name) > MAX_METRIC_NAME_CHARS:
        raise InvalidItem(f"name is {len(name)} characters: send at most {MAX_METRIC_NAME_CHARS}.")
    return name


def _values_read(*, record: MetricPoint, metric: Metric, point: Any) -> None:
    if record.kind in ("gauge", "sum"):
        record.value = _number_value(point=point)
    if record.kind == "sum":
        record.temporality = TEMPORALITIES.get(metric.sum.aggregation_temporality, "")
        record.is_monotonic = metric.sum.is_monotonic
    if record.kind == "histogram":
        record.temporality = TEMPORALITIES.get(metric.histogram.aggregation_temporality, "")
        record.buckets = _explicit_buckets(point=point)
    if record.kind == "exponential_histogram":
        temporality = metric.exponential_histogram.aggregation_temporality
        record.temporality = TEMPORALITIES.get(temporality, "")
        record.buckets = _exponential_buckets(point=point)
    if record.kind == "summary":
        record.buckets = {
            "quantiles": [
                {"quantile": _finite(q.quantile, "quantile"), "value": _finite(q.value, "value")}
                for q in point.quantile_values
            ]
        }
    if record.kind != "gauge" and record.kind != "sum":
        record.count = point.count
        record.sum = _finite(point.sum, "sum") if _has_sum(point) else None
        # The value column is the sum, or 0 when the sender left the sum out.
        record.value = record.sum or 0.0


def _has_sum(point: Any) -> bool:
    # Histogram sums are optional in proto3; summary sums are plain fields, always present.
    try:
        return point.HasField("sum")
    except ValueError:
        return True


def _number_value(*, point: Any) -> float:
    kind = point.WhichOneof("value")
    if kind is None:
        raise InvalidItem("value is missing: set asDouble or asInt.")
    return _finite(float(getattr(point, kind)), kind)


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise InvalidItem(f"{name} is {value}: send a finite number.")
    return value


def _explicit_buckets(*, point: Any) -> dict:
    counts = list(point.bucket_counts)
    bounds = [_finite(bound, "explicitBounds") for bound in point.explicit_bounds]
    if counts and len(counts) != len(bounds) + 1:
        raise InvalidItem(
            f"bucketCounts has {len(counts)} entries for {len(bounds)} explicitBounds: "
            "send one more count than bounds."
        )
    buckets = {"bounds": bounds, "counts": counts}
    buckets.update(_min_max(point=point))
    return buckets


def _exponential_buckets(*, point: Any) -> dict:
    buckets = {
        "scale": point.scale,
        "zero_count": point.zero_count,
        "zero_threshold": _finite(point.zero_threshold, "zeroThreshold"),
        "positive": {
            "offset": point.positive.offset,
            "counts": list(point.positive.bucket_counts),
        },
        "negative": {
            "offset": point.negative.offset,
            "counts": list(point.negative.bucket_counts),
        },
    }
    buckets.update(_min_max(point=point))
    return buckets


def _min_max(*, point: Any) -> dict:
    found = {}
    for name in ("min", "max"):
        if point.HasField(name):
            found[name] = _finite(getattr(point, name), name)
    return found
