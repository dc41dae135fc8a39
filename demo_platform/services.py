"""Load the demo world into the help desk database, through the same ingest code as HTTP.

The world's history becomes OTLP ExportTraceServiceRequest and ExportLogsServiceRequest
messages, built by the OpenTelemetry SDK and its OTLP encoder exactly as the platform process
exports them, and its state becomes platform events. The last 15 minutes of metrics become an
ExportMetricsServiceRequest with the series the platform exports live, and each active fault
its firing alert. telemetry.services ingests them all.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from demo_platform.alerts import RECEIVER, fault_alert
from demo_platform.events import world_events
from demo_platform.instrumentation import AgentTelemetry
from demo_platform.metrics import metric_history_request
from demo_platform.workflow import AGENT_VERSIONS
from demo_platform.world import (
    DEFAULT_CUSTOMER_COUNT,
    DEFAULT_SEED,
    STORY_TRIAL_ID,
    World,
    world_build,
)
from telemetry.alert_ingest import Notification
from telemetry.models import Interaction
from telemetry.services import (
    alerts_ingest,
    logs_ingest,
    metrics_ingest,
    platform_events_ingest,
    traces_ingest,
)

logger = logging.getLogger(__name__)

OPERATOR_USERNAME = "operator"
OPERATOR_PASSWORD = "operator-demo"  # noqa: S105 - the demo login, printed by the launcher
# Spans per ingest call; the ingest costs a fixed number of queries per call.
CHUNK_SIZE = 500


@dataclass
class DemoLoadResult:
    loaded: bool
    customers: int = 0
    trials: int = 0
    spans: int = 0
    log_records: int = 0
    events: int = 0
    metric_points: int = 0
    alerts: int = 0
    rejected: int = 0
    operator_created: bool = False


def demo_world_is_loaded(*, world: World) -> bool:
    """Tell whether this world's history is stored, by the story trial's last span.

    The whole load runs in one transaction, so one of its spans being stored means all are.
    """
    last = [call for call in world.interactions if call.trial_id == STORY_TRIAL_ID][-1]
    return Interaction.objects.filter(
        trace_id=f"{last.trace_id:032x}", span_id=f"{last.span_id:016x}"
    ).exists()


def demo_operator_ensure() -> bool:
    """Create the demo operator login if missing; return whether it was created."""
    user_model = get_user_model()
    if user_model.objects.filter(username=OPERATOR_USERNAME).exists():
        return False
    user_model.objects.create_user(
        username=OPERATOR_USERNAME,
        password=OPERATOR_PASSWORD,
        email="operator@example.com",
        first_name="Demo",
        last_name="Operator",
        is_staff=True,
        is_superuser=True,
    )
    logger.info("Demo operator created", extra={"username": OPERATOR_USERNAME})
    return True


def world_telemetry_encode(*, world: World) -> tuple[list, list]:
    """Run the world's interactions through the SDK; return trace and log requests, in chunks."""
    span_exporter = InMemorySpanExporter()
    log_exporter = InMemoryLogRecordExporter()
    telemetry = AgentTelemetry(
        span_processor_factory=lambda: SimpleSpanProcessor(span_exporter),
        log_processor_factory=lambda: SimpleLogRecordProcessor(log_exporter),
    )
    for record in world.interactions:
        telemetry.interaction_emit(record)

    spans = span_exporter.get_finished_spans()
    logs = log_exporter.get_finished_logs()
    trace_requests = [
        encode_spans(spans[start : start + CHUNK_SIZE])
        for start in range(0, len(spans), CHUNK_SIZE)
    ]
    log_requests = [
        encode_logs(logs[start : start + CHUNK_SIZE]) for start in range(0, len(logs), CHUNK_SIZE)
    ]
    return trace_requests, log_requests


def demo_world_load(
    *,
    anchor: datetime | None = None,
    seed: int = DEFAULT_SEED,
    customer_count: int = DEFAULT_CUSTOMER_COUNT,
) -> DemoLoadResult:
    """Load the demo world unless it is already loaded, and ensure the demo operator exists."""
    world = world_build(anchor=anchor, seed=seed, customer_count=customer_count)
    if demo_world_is_loaded(world=world):
        operator_created = demo_operator_ensure()
        logger.info("Demo world already loaded", extra={"seed": seed})
        return DemoLoadResult(loaded=False, operator_created=operator_created)

    events = world_events(world, agent_versions=AGENT_VERSIONS, with_history=True)
    trace_requests, log_requests = world_telemetry_encode(world=world)
    metric_request = metric_history_request(
        faults=world.faults.values(), anchor=world.anchor, seed=seed
    )
    alerts = [fault_alert(fault) for fault in world.faults.values()]
    result = DemoLoadResult(loaded=True, customers=len(world.customers), trials=len(world.trials))

    with transaction.atomic():
        ingested = platform_events_ingest(events=events)
        result.events = ingested.accepted
        result.rejected += ingested.rejected
        for request in trace_requests:
            ingested = traces_ingest(request=request)
            result.spans += ingested.accepted
            result.rejected += ingested.rejected
        for request in log_requests:
            ingested = logs_ingest(request=request)
            result.log_records += ingested.accepted
            result.rejected += ingested.rejected
        ingested = metrics_ingest(request=metric_request)
        result.metric_points = ingested.accepted
        result.rejected += ingested.rejected
        ingested = alerts_ingest(
            alerts=[alert for alert in alerts if alert is not None],
            notification=Notification(receiver=RECEIVER, group_key="", external_url=""),
        )
        result.alerts = ingested.accepted
        result.rejected += ingested.rejected
        result.operator_created = demo_operator_ensure()

    if result.rejected:
        logger.warning("Demo world load rejected items", extra={"rejected": result.rejected})
    logger.info(
        "Demo world loaded",
        extra={"customers": result.customers, "spans": result.spans, "events": result.events},
    )
    return result
