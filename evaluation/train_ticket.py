"""Send the Train Ticket fault windows through the public OTLP endpoints and rank root causes.

Each window goes to /v1/traces, /v1/logs and, when the build has it, /v1/metrics as protobuf
with a bearer ingest token, through Django's test client (the full view, authentication and
decoding path, without a socket). Then two results are measured against the injected service:
the Issue Detective's system diagnosis (diagnostics.system.diagnose_system, the window against
the fault-free baseline period) and, for comparison, its customer diagnosis of the window's
synthetic customer (affected component, then its alternatives' components).
"""

import datetime as dt
import logging
import time
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, reverse
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from customers.models import Customer
from diagnostics.detectors import findings_detect
from diagnostics.evidence import evidence_collect
from diagnostics.reasoning import conclusion_reach
from diagnostics.system import diagnose_system
from evaluation import nezha
from evaluation.measures import accuracy_at

logger = logging.getLogger(__name__)

PROTOBUF = "application/x-protobuf"
ROWS_PER_REQUEST = 4000


class IngestFailed(RuntimeError):
    """An OTLP endpoint returned an error or rejected items."""


class OtlpSender:
    """Post OTLP protobuf requests to the receivers and check each response."""

    def __init__(self) -> None:
        self.client = Client(SERVER_NAME="localhost")
        self.authorization = f"Bearer {settings.INGEST_TOKENS[0]}"
        self.metrics_path = metrics_endpoint()
        self.items = {"spans": 0, "logs": 0, "metric_points": 0}

    def send(self, *, path: str, request, response_class) -> None:
        response = self.client.post(
            path,
            data=request.SerializeToString(),
            content_type=PROTOBUF,
            HTTP_AUTHORIZATION=self.authorization,
        )
        if response.status_code != 200:
            raise IngestFailed(
                f"{path} returned {response.status_code}: {response.content[:300]!r}"
            )
        answer = response_class.FromString(response.content)
        if answer.partial_success.error_message:
            raise IngestFailed(f"{path} rejected items: {answer.partial_success.error_message}")

    def traces_send(self, *, files: list[Path], customer_id: str) -> None:
        for path in files:
            for rows in nezha.chunks(nezha.csv_rows(path), ROWS_PER_REQUEST):
                request = nezha.traces_convert(rows=rows, customer_id=customer_id)
                self.send(
                    path="/v1/traces", request=request, response_class=ExportTraceServiceResponse
                )
                self.items["spans"] += len(rows)

    def logs_send(self, *, files: list[Path], customer_id: str) -> None:
        for path in files:
            for rows in nezha.chunks(nezha.csv_rows(path), ROWS_PER_REQUEST):
                request = nezha.logs_convert(rows=rows, customer_id=customer_id)
                self.send(
                    path="/v1/logs", request=request, response_class=ExportLogsServiceResponse
                )
                self.items["logs"] += len(rows)

    def metrics_send(self, *, rows: list[dict], window: nezha.FaultWindow) -> None:
        if self.metrics_path is None:
            return
        since = window.inject_at - dt.timedelta(minutes=nezha.METRIC_BASELINE_MINUTES)
        request = nezha.metrics_convert(
            rows=rows, customer_id=window.customer_id, since=since, until=window.end
        )
        self.send(
            path=self.metrics_path, request=request, response_class=ExportMetricsServiceResponse
        )
        self.items["metric_points"] += sum(
            len(metric.gauge.data_points)
            for resource in request.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        )


def metrics_endpoint() -> str | None:
    try:
        return reverse("otlp-metrics")
    except NoReverseMatch:
        return None


def train_ticket_run(*, archive: Path, workdir: Path) -> dict:
    started = time.perf_counter()
    root = nezha.archive_unpack(archive=archive, into=workdir / "nezha")
    windows = nezha.fault_windows_read(root=root)
    sender = OtlpSender()

    traces, logs = nezha.baseline_files(root=root)
    sender.traces_send(files=traces, customer_id=nezha.BASELINE_CUSTOMER)
    sender.logs_send(files=logs, customer_id=nezha.BASELINE_CUSTOMER)
    baseline = nezha.baseline_period(files=traces)
    metric_rows = [row for path in nezha.metric_files(root=root) for row in nezha.csv_rows(path)]

    answers = []
    for window in windows:
        traces, logs = nezha.window_files(root=root, window=window)
        sender.traces_send(files=traces, customer_id=window.customer_id)
        sender.logs_send(files=logs, customer_id=window.customer_id)
        sender.metrics_send(rows=metric_rows, window=window)
        answers.append(window_answer(window=window, baseline=baseline))
        logger.info("Train Ticket window ranked", extra={"customer_id": window.customer_id})

    return train_ticket_measure(
        answers=answers,
        items=sender.items,
        metrics_sent=sender.metrics_path is not None,
        seconds=time.perf_counter() - started,
    )


def window_answer(*, window: nezha.FaultWindow, baseline: tuple[dt.datetime, dt.datetime]) -> dict:
    diagnosis = diagnose_system(
        since=window.inject_at,
        until=window.end,
        baseline_since=baseline[0],
        baseline_until=baseline[1],
    )
    return {
        "window": window,
        "system": [suspect.service for suspect in diagnosis.suspects],
        "customer": customer_components(window=window),
    }


def customer_components(*, window: nezha.FaultWindow) -> list[str]:
    """Return the Issue Detective's affected component and its alternatives' components."""
    customer = Customer.objects.get(customer_id=window.customer_id)
    snapshot = evidence_collect(customer=customer, now=window.end)
    conclusion = conclusion_reach(snapshot=snapshot, findings=findings_detect(snapshot=snapshot))
    components = [conclusion.component] if conclusion.component else []
    for alternative in conclusion.alternatives:
        component = alternative.get("affected_component") or ""
        if component and component not in components:
            components.append(component)
    return components


def train_ticket_measure(
    *, answers: list[dict], items: dict, metrics_sent: bool, seconds: float
) -> dict:
    labels = [answer["window"].service for answer in answers]
    system = [answer["system"] for answer in answers]
    customer = [answer["customer"] for answer in answers]
    return {
        "windows": len(answers),
        "system_at_1": accuracy_at(labels=labels, ranked=system, k=1),
        "system_at_3": accuracy_at(labels=labels, ranked=system, k=3),
        "customer_at_1": accuracy_at(labels=labels, ranked=customer, k=1),
        "customer_at_3": accuracy_at(labels=labels, ranked=customer, k=3),
        "items": items,
        "metrics_sent": metrics_sent,
        "seconds": seconds,
        "rows": [
            {
                "inject_time": answer["window"].inject_at.strftime("%H:%M:%S"),
                "fault_type": answer["window"].fault_type,
                "service": answer["window"].service,
                "system": answer["system"][:3],
                "customer": answer["customer"][:3],
            }
            for answer in answers
        ],
    }
