"""Turn interaction records into OpenTelemetry spans and log records with the real SDK.

Each agent has its own TracerProvider and LoggerProvider, so its telemetry carries its own
resource (`service.name`), as separate agent services would. Spans also carry
`gen_ai.agent.name`. Records bring their own trace and span ids and explicit start and end
times: a 30-second timeout is reported as one without taking 30 seconds, and re-sending the
same record produces the same span.
"""

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.metrics.export import MetricExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from demo_platform.workflow import AGENT_VERSIONS, InteractionRecord

logger = logging.getLogger(__name__)

INSTRUMENTATION_SCOPE = "demo_platform"
SEVERITIES = {
    "DEBUG": SeverityNumber.DEBUG,
    "INFO": SeverityNumber.INFO,
    "WARN": SeverityNumber.WARN,
    "ERROR": SeverityNumber.ERROR,
}


class RecordIdGenerator(IdGenerator):
    """Hand out the ids of the record being emitted, and random ids when none is pending."""

    def __init__(self):
        self.pending = threading.local()
        self.fallback = RandomIdGenerator()

    def generate_span_id(self) -> int:
        span_id = getattr(self.pending, "span_id", None)
        self.pending.span_id = None
        return span_id or self.fallback.generate_span_id()

    def generate_trace_id(self) -> int:
        trace_id = getattr(self.pending, "trace_id", None)
        self.pending.trace_id = None
        return trace_id or self.fallback.generate_trace_id()


def nanoseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000


def agent_resource(agent: str) -> Resource:
    return Resource.create(
        {
            "service.name": agent,
            "service.version": AGENT_VERSIONS.get(agent, ""),
            "service.namespace": "wow-platform",
            "deployment.environment.name": "demo",
        }
    )


def span_attributes(record: InteractionRecord) -> dict:
    attributes = {
        "customer.id": record.customer_id,
        "gen_ai.agent.name": record.agent,
        "gen_ai.operation.name": record.operation,
        "agent.retry.count": record.retry_count,
    }
    if record.request_body is not None:
        attributes["agent.request.body"] = json.dumps(record.request_body, sort_keys=True)
    if record.response_body is not None:
        attributes["agent.response.body"] = json.dumps(record.response_body, sort_keys=True)
    if record.trial_id:
        attributes["workflow.id"] = record.trial_id
    if record.step is not None:
        attributes["workflow.step"] = record.step
    if record.error_type:
        attributes["error.type"] = record.error_type
    attributes.update(record.attributes)
    return attributes


class AgentTelemetry:
    """Per-agent tracer and logger providers with the given processors attached."""

    def __init__(
        self,
        *,
        span_processor_factory: Callable[[], SpanProcessor],
        log_processor_factory: Callable[[], LogRecordProcessor],
    ):
        self.id_generator = RecordIdGenerator()
        self.tracer_providers: dict[str, TracerProvider] = {}
        self.logger_providers: dict[str, LoggerProvider] = {}
        for agent in AGENT_VERSIONS:
            resource = agent_resource(agent)
            tracer_provider = TracerProvider(resource=resource, id_generator=self.id_generator)
            tracer_provider.add_span_processor(span_processor_factory())
            logger_provider = LoggerProvider(resource=resource)
            logger_provider.add_log_record_processor(log_processor_factory())
            self.tracer_providers[agent] = tracer_provider
            self.logger_providers[agent] = logger_provider

    def interaction_emit(self, record: InteractionRecord) -> None:
        """Emit the record as one span plus its log lines, joined by trace and span id."""
        self.span_emit(record)
        self.logs_emit(record)

    def span_emit(self, record: InteractionRecord) -> None:
        tracer = self.tracer_providers[record.agent].get_tracer(INSTRUMENTATION_SCOPE)
        parent_context = Context()
        if record.parent_span_id:
            parent = SpanContext(
                trace_id=record.trace_id,
                span_id=record.parent_span_id,
                is_remote=False,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            parent_context = trace.set_span_in_context(NonRecordingSpan(parent))
        self.id_generator.pending.trace_id = record.trace_id
        self.id_generator.pending.span_id = record.span_id

        span = tracer.start_span(
            record.operation,
            context=parent_context,
            kind=SpanKind.INTERNAL,
            attributes=span_attributes(record),
            start_time=nanoseconds(record.started_at),
        )
        if record.failed:
            span.add_event(
                "exception",
                {"exception.type": record.error_type, "exception.message": record.error_message},
                timestamp=nanoseconds(record.ended_at),
            )
            span.set_status(Status(StatusCode.ERROR, record.error_message))
        else:
            span.set_status(Status(StatusCode.OK))
        span.end(end_time=nanoseconds(record.ended_at))

    def logs_emit(self, record: InteractionRecord) -> None:
        if not record.logs:
            return
        span_context = SpanContext(
            trace_id=record.trace_id,
            span_id=record.span_id,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
        context = trace.set_span_in_context(NonRecordingSpan(span_context))
        otel_logger = self.logger_providers[record.agent].get_logger(INSTRUMENTATION_SCOPE)
        for line in record.logs:
            moment = nanoseconds(record.started_at) + line.offset_ms * 1_000_000
            otel_logger.emit(
                timestamp=moment,
                observed_timestamp=moment,
                context=context,
                severity_number=SEVERITIES[line.severity],
                severity_text=line.severity,
                body=line.body,
                attributes={"customer.id": record.customer_id, "gen_ai.agent.name": record.agent},
            )

    def force_flush(self, timeout_millis: int = 5000) -> None:
        for provider in (*self.tracer_providers.values(), *self.logger_providers.values()):
            provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        for provider in (*self.tracer_providers.values(), *self.logger_providers.values()):
            provider.shutdown()


class SerialSpanExporter(SpanExporter):
    """Export through the wrapped exporter while holding the process-wide delivery lock."""

    def __init__(self, exporter: SpanExporter, lock: threading.Lock):
        self.exporter = exporter
        self.lock = lock

    def export(self, spans):
        with self.lock:
            return self.exporter.export(spans)

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class SerialLogExporter(LogRecordExporter):
    """Export through the wrapped exporter while holding the process-wide delivery lock."""

    def __init__(self, exporter: LogRecordExporter, lock: threading.Lock):
        self.exporter = exporter
        self.lock = lock

    def export(self, batch):
        with self.lock:
            return self.exporter.export(batch)

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class SerialMetricExporter(MetricExporter):
    """Export through the wrapped exporter while holding the process-wide delivery lock.

    The wrapper keeps the SDK's default preferences (cumulative temporality, default
    aggregations), which are also OTLPMetricExporter's defaults.
    """

    def __init__(self, exporter: MetricExporter, lock: threading.Lock):
        super().__init__()
        self.exporter = exporter
        self.lock = lock

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        with self.lock:
            return self.exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        self.exporter.shutdown(timeout_millis=timeout_millis, **kwargs)


def otlp_telemetry_create(
    *,
    helpdesk_url: str,
    ingest_token: str,
    delivery_lock: threading.Lock,
    schedule_delay_millis: int = 500,
) -> AgentTelemetry:
    """Build telemetry that exports over OTLP/HTTP to the help desk in batches.

    Every export takes `delivery_lock`, which the event sender shares, so the platform sends
    one request at a time. The help desk's SQLite database (the zero-setup demo and the test
    server) then gets no concurrent writes from the platform.
    """
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    base = helpdesk_url.rstrip("/")
    headers = {"Authorization": f"Bearer {ingest_token}"}

    def span_processor() -> SpanProcessor:
        exporter = OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers=headers, timeout=5)
        return BatchSpanProcessor(
            SerialSpanExporter(exporter, delivery_lock),
            schedule_delay_millis=schedule_delay_millis,
        )

    def log_processor() -> LogRecordProcessor:
        exporter = OTLPLogExporter(endpoint=f"{base}/v1/logs", headers=headers, timeout=5)
        return BatchLogRecordProcessor(
            SerialLogExporter(exporter, delivery_lock),
            schedule_delay_millis=schedule_delay_millis,
        )

    return AgentTelemetry(
        span_processor_factory=span_processor, log_processor_factory=log_processor
    )
