"""Turn a scenario into OTLP requests and state events, ingest them, and diagnose the customer.

Spans, logs and state events go through the telemetry ingest services in-process, the same
functions the HTTP receivers call. Metrics and alerts go in only when telemetry offers their
ingest (metrics_ingest, alerts_ingest); otherwise they are left out and the report states it.
"""

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.test import override_settings
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from customers.models import Customer
from diagnostics.detectors import findings_detect
from diagnostics.evidence import evidence_collect
from diagnostics.reasoning import Conclusion, conclusion_reach
from evaluation.scenarios import AlertSpec, LogSpec, MetricSpec, Scenario, SpanSpec
from telemetry import services as telemetry_services

logger = logging.getLogger(__name__)

SEVERITY_NUMBERS = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}


class Rollback(Exception):
    """Raised to undo one scenario's writes, so every scenario starts from an empty database."""


@dataclass
class Outcome:
    scenario: Scenario
    conclusion: Conclusion
    seconds: float


def nanos(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


def attribute(key: str, value) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def service_name_of(agent: str, *, agent_attribute: bool) -> str:
    """Return the resource's service.name: a deployment name, or the agent's own name."""
    if not agent_attribute:
        return agent
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in agent).lstrip("-") + "-svc"


def trace_request(*, spans: list[SpanSpec], agent_attribute: bool) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    by_agent: dict[str, list[SpanSpec]] = {}
    for span in spans:
        by_agent.setdefault(span.agent, []).append(span)
    for agent, agent_spans in by_agent.items():
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(
            attribute("service.name", service_name_of(agent, agent_attribute=agent_attribute))
        )
        scope = resource_spans.scope_spans.add()
        scope.scope.name = "agent-platform"
        for span in agent_spans:
            span_fill(target=scope.spans.add(), span=span, agent_attribute=agent_attribute)
    return request


def span_fill(*, target, span: SpanSpec, agent_attribute: bool) -> None:
    target.trace_id = bytes.fromhex(span.trace_id)
    target.span_id = bytes.fromhex(span.span_id)
    target.name = f"{span.operation} {span.agent}"
    target.kind = 3  # SPAN_KIND_CLIENT
    target.start_time_unix_nano = nanos(span.started_at)
    target.end_time_unix_nano = nanos(span.started_at) + span.duration_ms * 1_000_000
    attributes = [attribute("gen_ai.operation.name", span.operation)]
    if agent_attribute:
        attributes.append(attribute("gen_ai.agent.name", span.agent))
    if span.customer_id:
        attributes.append(attribute("customer.id", span.customer_id))
    if span.workflow_id:
        attributes.append(attribute("workflow.id", span.workflow_id))
        attributes.append(attribute("workflow.step", span.step))
    if span.retries:
        attributes.append(attribute("agent.retry.count", span.retries))
    attributes.append(attribute("agent.request.body", span.request_body))
    failure_fill(target=target, span=span, attributes=attributes)
    target.attributes.extend(attributes)


def failure_fill(*, target, span: SpanSpec, attributes: list[KeyValue]) -> None:
    failure = span.failure
    if failure is None:
        target.status.code = Status.STATUS_CODE_OK
        return
    target.status.code = Status.STATUS_CODE_ERROR
    error_type = failure.error_type
    if failure.timeout and not error_type.lower().endswith(("timeout", "timeouterror")):
        error_type = "TimeoutError"
    if error_type:
        attributes.append(attribute("error.type", error_type))
    if failure.in_event:
        event = target.events.add()
        event.name = "exception"
        event.time_unix_nano = target.end_time_unix_nano
        event.attributes.append(attribute("exception.type", failure.error_type))
        event.attributes.append(attribute("exception.message", failure.message))
    else:
        target.status.message = failure.message


def logs_request(*, logs: list[LogSpec], agent_attribute: bool) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    for log in logs:
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.append(
            attribute("service.name", service_name_of(log.agent, agent_attribute=agent_attribute))
        )
        record = resource_logs.scope_logs.add().log_records.add()
        record.time_unix_nano = nanos(log.timestamp)
        record.severity_number = SEVERITY_NUMBERS[log.severity]
        record.severity_text = log.severity
        record.body.string_value = log.body
        if log.trace_id:
            record.trace_id = bytes.fromhex(log.trace_id)
            record.span_id = bytes.fromhex(log.span_id)
        if log.customer_id:
            record.attributes.append(attribute("customer.id", log.customer_id))
        if agent_attribute:
            record.attributes.append(attribute("gen_ai.agent.name", log.agent))
    return request


# Export form of each reading, following the OpenTelemetry semantic conventions: a gauge for
# the value and one for the limit (db.client.connection.count and .max), or a utilization ratio.
POOL = {"db.client.connection.pool.name": "main"}
QUEUE = {"messaging.destination.name": "workflow-steps"}
METRIC_EXPORTS = {
    "db.connections": (
        ("db.client.connection.count", {**POOL, "db.client.connection.state": "used"}),
        ("db.client.connection.max", POOL),
    ),
    "queue.pending": (("messaging.queue.depth", QUEUE), ("messaging.queue.capacity", QUEUE)),
    "memory.usage": (("process.memory.utilization", {}),),
    "cpu.usage": (("process.cpu.utilization", {}),),
    # NOTE: the detective reads no disk metric, so this reading shows only in the timeline.
    "disk.usage": (("system.filesystem.utilization", {}),),
}


def metrics_request(*, metrics: list[MetricSpec]) -> ExportMetricsServiceRequest:
    """Build gauges for each reading: value and limit, or their ratio for a utilization."""
    request = ExportMetricsServiceRequest()
    for reading in metrics:
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.attributes.append(attribute("service.name", reading.agent))
        scope = resource_metrics.scope_metrics.add()
        exports = METRIC_EXPORTS[reading.name]
        if len(exports) == 2:
            values = (reading.value, reading.limit)
        else:
            values = (reading.value / reading.limit,)
        for (name, attributes), value in zip(exports, values, strict=True):
            metric = scope.metrics.add()
            metric.name = name
            point = metric.gauge.data_points.add()
            point.time_unix_nano = nanos(reading.timestamp)
            point.as_double = value
            point.attributes.append(attribute("gen_ai.agent.name", reading.agent))
            point.attributes.extend(attribute(key, text) for key, text in attributes.items())
    return request


def alertmanager_payload(*, alerts: list[AlertSpec]) -> dict:
    """Build an Alertmanager webhook body (version 4) with the firing alerts."""
    return {
        "version": "4",
        "status": "firing",
        "receiver": "helpdesk",
        "groupKey": "{}:{alertname}",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": alert.name,
                    "severity": alert.severity,
                    "service": alert.agent,
                    "agent": alert.agent,
                },
                "annotations": {"summary": alert.summary},
                "startsAt": alert.starts_at.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": f"{abs(hash((alert.name, alert.agent))) % 16**16:016x}",
            }
            for alert in alerts
        ],
    }


def feeds_available() -> dict[str, bool]:
    """Return which optional telemetry feeds this build can ingest."""
    return {
        "metrics": hasattr(telemetry_services, "metrics_ingest"),
        "alerts": hasattr(telemetry_services, "alerts_ingest"),
    }


def scenario_ingest(*, scenario: Scenario) -> None:
    agent_attribute = scenario.agent_attribute
    events = sorted(scenario.events, key=lambda event: event.get("type") != "customer.upserted")
    results = [telemetry_services.platform_events_ingest(events=events)]
    results.append(
        telemetry_services.traces_ingest(
            request=trace_request(spans=scenario.spans, agent_attribute=agent_attribute)
        )
    )
    results.append(
        telemetry_services.logs_ingest(
            request=logs_request(logs=scenario.logs, agent_attribute=agent_attribute)
        )
    )
    feeds = feeds_available()
    if feeds["metrics"] and scenario.metrics:
        results.append(
            telemetry_services.metrics_ingest(request=metrics_request(metrics=scenario.metrics))
        )
    if feeds["alerts"] and scenario.alerts:
        results.append(
            telemetry_services.alerts_ingest(
                alerts=alertmanager_payload(alerts=scenario.alerts)["alerts"]
            )
        )
    for result in results:
        if result.rejected:
            logger.warning(
                "Scenario items rejected",
                extra={"scenario": scenario.scenario_id, "errors": result.errors[:3]},
            )


def scenario_diagnose(*, scenario: Scenario) -> Outcome:
    """Ingest the scenario into an empty database, diagnose its customer, then undo the writes."""
    outcome = None
    try:
        with (
            override_settings(HELPDESK_ORCHESTRATOR_AGENT=scenario.orchestrator),
            transaction.atomic(),
        ):
            scenario_ingest(scenario=scenario)
            customer = Customer.objects.get(customer_id=scenario.customer_id)
            started = time.perf_counter()
            snapshot = evidence_collect(customer=customer)
            conclusion = conclusion_reach(
                snapshot=snapshot, findings=findings_detect(snapshot=snapshot)
            )
            outcome = Outcome(
                scenario=scenario, conclusion=conclusion, seconds=time.perf_counter() - started
            )
            raise Rollback
    except Rollback:
        pass
    return outcome
