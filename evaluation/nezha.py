"""Train Ticket fault windows from the Nezha data set, converted to OTLP and sent to /v1/*.

Source: Yu et al., "Nezha: Interpretable Fine-Grained Root Causes Analysis for Microservices on
Multi-Modal Observability Data", ESEC/FSE 2023 (repository IntelligentDDS/Nezha, MIT License).
One day (2023-01-29) holds 28 injected faults. For each, the trace and log files of the minute
of injection and the two after it become one window, sent under its own synthetic customer id.

Quirks of the data: `inject_timestamp` in the fault list runs 8 hours (28,800 s) behind the
telemetry's clock, so the window starts at `inject_time`, read as UTC. Pod names carry a
deployment suffix (ts-basic-service-5dc8d4f9fd-46997): the service is the part before it. Log
lines hold the Logback text, whose clock is UTC+8; the record time is the CSV's TimeUnixNano, or
its Timestamp column where TimeUnixNano overflowed.
"""

import csv
import datetime as dt
import json
import logging
import math
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from telemetry.values import datetime_from_nanos

logger = logging.getLogger(__name__)

DAY = "2023-01-29"
WINDOW_MINUTES = 3
# Minutes of pod metrics before the injection that serve as the metric baseline.
METRIC_BASELINE_MINUTES = 20
BASELINE_CUSTOMER = "tt-fault-free"
# A Kubernetes Deployment's pod: <deployment>-<replica set hash>-<pod suffix of 5 characters>.
POD_NAME = re.compile(r"^(?P<service>.+)-[0-9a-z]{6,10}-[0-9a-z]{5}$")
# Logback's pattern in Train Ticket: "16:42:22.382 INFO  t.s.TravelServiceImpl#532 ...".
LOG_LEVEL = re.compile(r"^\s*\d{2}:\d{2}:\d{2}\.\d{3}\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b")
# The same prefix's logger and line, "t.s.TravelServiceImpl#532": the statement that logged.
LOG_LOCATION = re.compile(r"^\s*\S+\s+[A-Z]+\s+(?P<logger>\S+)#(?P<line>\d+)\s")
SEVERITY_NUMBERS = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
HEX = re.compile(r"^[0-9a-f]+$")
# Pod metric columns sent as gauges: (CSV column, metric name, unit).
METRIC_COLUMNS = (
    ("CpuUsageRate(%)", "pod.cpu.usage_rate", "%"),
    ("MemoryUsageRate(%)", "pod.memory.usage_rate", "%"),
    ("PodServerLatencyP90(s)", "pod.server.latency.p90", "s"),
    ("PodWorkload(Ops)", "pod.workload", "{operation}/s"),
    ("PodSuccessRate(%)", "pod.success_rate", "%"),
)


@dataclass(frozen=True)
class FaultWindow:
    inject_at: dt.datetime
    pod: str
    fault_type: str

    @property
    def service(self) -> str:
        return service_of_pod(self.pod)

    @property
    def customer_id(self) -> str:
        return f"tt-{self.inject_at:%Y%m%d-%H%M%S}"

    @property
    def end(self) -> dt.datetime:
        return self.inject_at.replace(second=0) + dt.timedelta(minutes=WINDOW_MINUTES)

    @property
    def file_stems(self) -> list[str]:
        """Return the HH_MM stems of the minute files: the injection's minute and the next two."""
        first = self.inject_at.replace(second=0)
        return [f"{first + dt.timedelta(minutes=i):%H_%M}" for i in range(WINDOW_MINUTES)]


def service_of_pod(pod: str) -> str:
    match = POD_NAME.match(pod)
    return match.group("service") if match else pod


def inject_time_parse(text: str) -> dt.datetime:
    """Read the fault list's inject_time as UTC, the telemetry's clock."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def archive_unpack(*, archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def fault_windows_read(*, root: Path) -> list[FaultWindow]:
    path = root / "rca_data" / DAY / f"{DAY}-fault_list.json"
    by_hour = json.loads(path.read_text())
    windows = [
        FaultWindow(
            inject_at=inject_time_parse(entry["inject_time"]),
            pod=entry["inject_pod"],
            fault_type=entry["inject_type"],
        )
        for hour in sorted(by_hour)
        for entry in by_hour[hour]
    ]
    return sorted(windows, key=lambda window: window.inject_at)


def csv_rows(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with path.open(newline="") as handle:
        yield from csv.DictReader(handle)


def attribute(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def hex_bytes(text: str, *, digits: int) -> bytes:
    text = (text or "").strip().lower()
    if len(text) != digits or not HEX.match(text) or not text.strip("0"):
        return b""
    return bytes.fromhex(text)


def resource_attributes(*, pod: str, customer_id: str) -> list[KeyValue]:
    return [
        attribute("service.name", service_of_pod(pod)),
        attribute("k8s.pod.name", pod),
        attribute("customer.id", customer_id),
    ]


def traces_convert(*, rows: Iterable[dict], customer_id: str) -> ExportTraceServiceRequest:
    """Convert trace CSV rows into one request, a resource per pod."""
    request = ExportTraceServiceRequest()
    scopes = {}
    for row in rows:
        pod = row["PodName"]
        if pod not in scopes:
            resource_spans = request.resource_spans.add()
            resource_spans.resource.attributes.extend(
                resource_attributes(pod=pod, customer_id=customer_id)
            )
            scopes[pod] = resource_spans.scope_spans.add()
        span = scopes[pod].spans.add()
        span.trace_id = hex_bytes(row["TraceID"], digits=32)
        span.span_id = hex_bytes(row["SpanID"], digits=16)
        span.parent_span_id = hex_bytes(row["ParentID"], digits=16)
        span.name = row["OperationName"]
        span.start_time_unix_nano = int(row["StartTimeUnixNano"])
        span.end_time_unix_nano = int(row["EndTimeUnixNano"])
    return request


def log_text(raw: str) -> str:
    """Return the line a container wrote: the `log` field of Docker's JSON, without its newline."""
    try:
        document = json.loads(raw)
    except json.JSONDecodeError:
        return raw.rstrip("\n")
    if isinstance(document, dict) and isinstance(document.get("log"), str):
        return document["log"].rstrip("\n")
    return raw.rstrip("\n")


def log_severity(text: str) -> str:
    match = LOG_LEVEL.match(text)
    return match.group(1) if match else ""


def log_time(row: dict) -> int:
    """Return the record time in nanoseconds, from the Timestamp column when TimeUnixNano is bad.

    A few rows carry an overflowed TimeUnixNano (-6795364578871345152) beside a valid Timestamp.
    """
    nanos = int(row["TimeUnixNano"] or 0)
    if nanos > 0:
        return nanos
    moment = dt.datetime.fromisoformat(row["Timestamp"].replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000) * 1000


def logs_convert(*, rows: Iterable[dict], customer_id: str) -> ExportLogsServiceRequest:
    """Convert log CSV rows into one request, reading the severity from the Logback level."""
    request = ExportLogsServiceRequest()
    scopes = {}
    for row in rows:
        pod = row["PodName"]
        if pod not in scopes:
            resource_logs = request.resource_logs.add()
            resource_logs.resource.attributes.extend(
                resource_attributes(pod=pod, customer_id=customer_id)
            )
            resource_logs.resource.attributes.append(attribute("k8s.node.name", row["Node"]))
            resource_logs.resource.attributes.append(
                attribute("k8s.container.name", row["Container"])
            )
            scopes[pod] = resource_logs.scope_logs.add()
        text = log_text(row["Log"])
        severity = log_severity(text)
        record = scopes[pod].log_records.add()
        record.time_unix_nano = log_time(row)
        record.severity_text = severity
        record.severity_number = SEVERITY_NUMBERS.get(severity, 0)
        record.body.string_value = text
        record.trace_id = hex_bytes(row["TraceID"], digits=32)
        record.span_id = hex_bytes(row["SpanID"], digits=16) if record.trace_id else b""
        record.attributes.extend(code_attributes(text))
    return request


def code_attributes(text: str) -> list[KeyValue]:
    """Return the code location of a Logback line as OpenTelemetry code attributes.

    An OpenTelemetry Logback appender sets these itself; the data set has only the text.
    """
    match = LOG_LOCATION.match(text)
    if match is None:
        return []
    return [
        attribute("code.namespace", match.group("logger")),
        KeyValue(key="code.lineno", value=AnyValue(int_value=int(match.group("line")))),
    ]


def metrics_convert(
    *, rows: Iterable[dict], customer_id: str, since: dt.datetime, until: dt.datetime
) -> ExportMetricsServiceRequest:
    """Convert pod metric rows between `since` and `until` into gauges, a resource per pod."""
    request = ExportMetricsServiceRequest()
    low, high = since.timestamp(), until.timestamp()
    by_pod: dict[str, list[dict]] = {}
    for row in rows:
        if low <= int(row["TimeStamp"]) < high:
            by_pod.setdefault(row["PodName"], []).append(row)
    for pod, pod_rows in by_pod.items():
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.extend(
            resource_attributes(pod=pod, customer_id=customer_id)
        )
        scope = resource_metrics.scope_metrics.add()
        for column, name, unit in METRIC_COLUMNS:
            metric = scope.metrics.add()
            metric.name = name
            metric.unit = unit
            for row in pod_rows:
                value = reading_value(row.get(column))
                # A minute without requests has no latency: the point is left out, not zeroed.
                if value is None:
                    continue
                point = metric.gauge.data_points.add()
                point.time_unix_nano = int(row["TimeStamp"]) * 1_000_000_000
                point.as_double = value
    return request


def reading_value(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def window_files(*, root: Path, window: FaultWindow) -> tuple[list[Path], list[Path]]:
    folder = root / "rca_data" / DAY
    traces = [folder / "trace" / f"{stem}_trace.csv" for stem in window.file_stems]
    logs = [folder / "log" / f"{stem}_log.csv" for stem in window.file_stems]
    return traces, logs


def metric_files(*, root: Path) -> list[Path]:
    return sorted((root / "rca_data" / DAY / "metric").glob("*_metric.csv"))


def baseline_files(*, root: Path) -> tuple[list[Path], list[Path]]:
    folder = root / "construct_data" / DAY
    return sorted((folder / "trace").glob("*.csv")), sorted((folder / "log").glob("*.csv"))


def baseline_period(*, files: list[Path]) -> tuple[dt.datetime, dt.datetime]:
    """Return the first span start and the last span end of the fault-free trace files."""
    starts, ends = [], []
    for path in files:
        for row in csv_rows(path):
            starts.append(int(row["StartTimeUnixNano"]))
            ends.append(int(row["EndTimeUnixNano"]))
    if not starts:
        raise ValueError(
            f"No spans in the baseline trace files {[str(path) for path in files]}: check that "
            "the archive unpacked completely."
        )
    return datetime_from_nanos(min(starts)), datetime_from_nanos(max(ends) + 1)


def chunks(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
