"""Ingest of the platform's telemetry: spans into interactions, log records, state events.

Metric, alert and state event ingest live in telemetry.metric_ingest, telemetry.alert_ingest and
telemetry.event_ingest and are re-exported here, so callers import every ingest function from this
module. Each ingest function
stores what it can and reports each item it rejected, so that one bad item never costs the valid
ones beside it. A batch costs a fixed number of queries whatever its size, because customers,
agents, trials and counters are loaded and updated in bulk.
"""

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from customers import services as customer_services
from customers.models import Trial
from telemetry.alert_ingest import alerts_ingest
from telemetry.event_ingest import platform_events_ingest
from telemetry.ingest import IngestResult, RejectedItem, counters_add
from telemetry.log_templates import log_templates_assign
from telemetry.metric_ingest import metrics_ingest
from telemetry.models import Interaction, LogRecord
from telemetry.operation_hours import operation_hours_record
from telemetry.records import (
    WORKFLOW_ID,
    InvalidItem,
    LogRow,
    SpanRecord,
    attributes_to_dict,
    log_parse,
    span_parse,
)

logger = logging.getLogger(__name__)

__all__ = [
    "IngestResult",
    "RejectedItem",
    "alerts_ingest",
    "logs_ingest",
    "metrics_ingest",
    "platform_events_ingest",
    "traces_ingest",
]


def traces_ingest(*, request: ExportTraceServiceRequest) -> IngestResult:
    """Store each valid span as an Interaction, skipping spans that are already stored."""
    result = IngestResult()
    records = []
    now = timezone.now()
    for index, (path, span, resource) in enumerate(_spans_of(request=request)):
        try:
            records.append(span_parse(span=span, resource=resource, now=now))
        except InvalidItem as error:
            result.reject(index=index, message=f"{path}: {error}")
    records = _first_of_each_span(records=records)

    stored = _spans_store_with_retry(records=records)
    result.accepted = len(records)

    without_customer = sum(1 for record in stored if record.customer_id is None)
    counters_add(
        counts={
            "spans_accepted": len(stored),
            "spans_rejected": result.rejected,
            "spans_without_customer": without_customer,
        }
    )
    logger.info(
        "Spans ingested",
        extra={
            "stored": len(stored),
            "duplicates": len(records) - len(stored),
            "rejected": result.rejected,
        },
    )
    return result


def _first_of_each_span(*, records: list[SpanRecord]) -> list[SpanRecord]:
    seen = set()
    unique = []
    for record in records:
        if (record.trace_id, record.span_id) not in seen:
            seen.add((record.trace_id, record.span_id))
            unique.append(record)
    return unique


def _spans_of(*, request: ExportTraceServiceRequest) -> Iterator[tuple[str, object, dict]]:
    for resource_index, resource_spans in enumerate(request.resource_spans):
        resource = attributes_to_dict(resource_spans.resource.attributes)
        for scope_index, scope_spans in enumerate(resource_spans.scope_spans):
            for span_index, span in enumerate(scope_spans.spans):
                path = (
                    f"resourceSpans[{resource_index}].scopeSpans[{scope_index}].spans[{span_index}]"
                )
                yield path, span, resource


def _spans_store_with_retry(*, records: list[SpanRecord]) -> list[SpanRecord]:
    """Store spans, retrying once when a concurrent request stored one of them first."""
    try:
        with transaction.atomic():
            return _spans_store(records=records)
    except IntegrityError:
        logger.info("Span batch raced a concurrent insert; retrying", extra={"spans": len(records)})
        with transaction.atomic():
            return _spans_store(records=records)


def _spans_store(*, records: list[SpanRecord]) -> list[SpanRecord]:
    """Insert the spans not stored yet, update the denormalized fields and return the new spans."""
    records = _unstored(records=records)
    if not records:
        return []

    customers = customer_services.customers_ensure(
        customer_ids={r.customer_id for r in records if r.customer_id}
    )
    agents = customer_services.agents_ensure(names={r.agent_name for r in records})
    workflow_ids = {r.workflow_id for r in records if r.workflow_id}
    trials = {
        trial.trial_id: trial
        for trial in Trial.objects.select_for_update().filter(trial_id__in=workflow_ids)
    }

    interactions = [
        _interaction_build(record=r, customers=customers, agents=agents, trials=trials)
        for r in records
    ]
    Interaction.objects.bulk_create(interactions)
    operation_hours_record(interactions=interactions)
    _logs_join(records=records)
    _activity_record(interactions=interactions, trials=trials, agents=agents)
    return records


def _unstored(*, records: list[SpanRecord]) -> list[SpanRecord]:
    if not records:
        return []
    stored = set(
        Interaction.objects.filter(
            trace_id__in={r.trace_id for r in records}, span_id__in={r.span_id for r in records}
        ).values_list("trace_id", "span_id")
    )
    return [r for r in records if (r.trace_id, r.span_id) not in stored]


def _interaction_build(*, record: SpanRecord, customers, agents, trials) -> Interaction:
    trial = trials.get(record.workflow_id)
    attributes = record.attributes
    if record.workflow_id and trial is None:
        # Keep an unknown workflow id visible, since no trial row stores it.
        attributes = {**attributes, WORKFLOW_ID: record.workflow_id}

    return Interaction(
        customer=customers.get(record.customer_id) if record.customer_id else None,
        agent=agents[record.agent_name],
        trial=trial,
        workflow_step=record.workflow_step,
        operation=record.operation,
        service_name=record.service_name,
        request_body=record.request_body,
        response_body=record.response_body,
        started_at=record.started_at,
        duration_ms=record.duration_ms,
        status=record.status,
        error_type=record.error_type,
        error_message=record.error_message,
        retry_count=record.retry_count,
        trace_id=record.trace_id,
        span_id=record.span_id,
        parent_span_id=record.parent_span_id,
        attributes=attributes,
        # _spans_store adds the call to its OperationHour in the same transaction.
        rolled_up=True,
    )


def _logs_join(*, records: list[SpanRecord]) -> None:
    """Attach log records that arrived before their span, in one UPDATE."""
    matching = Interaction.objects.filter(
        trace_id=OuterRef("trace_id"), span_id=OuterRef("span_id")
    )
    LogRecord.objects.filter(
        Exists(matching),
        interaction__isnull=True,
        trace_id__in={r.trace_id for r in records},
    ).update(
        interaction=Subquery(matching.values("pk")[:1]),
        customer=Coalesce(F("customer"), Subquery(matching.values("customer_id")[:1])),
    )


def _activity_record(*, interactions: list[Interaction], trials: Mapping, agents: Mapping) -> None:
    customer_activity: dict[int, dt.datetime] = {}
    assignment_counts: dict[tuple[int, int], list] = defaultdict(lambda: [0, 0, 0, None])
    trial_activity: dict[int, dt.datetime] = {}
    trial_agents: dict[int, set[str]] = defaultdict(set)
    agent_names = {agent.pk: name for name, agent in agents.items()}

    for interaction in interactions:
        moment = interaction.started_at
        if interaction.customer_id:
            customer_activity[interaction.customer_id] = _later(
                customer_activity.get(interaction.customer_id), moment
            )
            counts = assignment_counts[(interaction.customer_id, interaction.agent_id)]
            counts[0] += 1
            counts[1] += interaction.status == Interaction.Status.FAILED
            counts[2] += interaction.status == Interaction.Status.TIMEOUT
            counts[3] = _later(counts[3], moment)
        if interaction.trial_id:
            trial_activity[interaction.trial_id] = _later(
                trial_activity.get(interaction.trial_id), moment
            )
            trial_agents[interaction.trial_id].add(agent_names[interaction.agent_id])

    customer_services.customers_touch(last_activity=customer_activity)
    customer_services.assignments_record_activity(
        activity={
            pair: customer_services.AssignmentActivity(
                interactions=counts[0],
                errors=counts[1],
                timeouts=counts[2],
                last_interaction_at=counts[3],
            )
            for pair, counts in assignment_counts.items()
        }
    )
    customer_services.trials_record_activity(
        trials=trials.values(), agents=trial_agents, last_activity=trial_activity
    )


def _later(current: dt.datetime | None, moment: dt.datetime) -> dt.datetime:
    return moment if current is None or moment > current else current


def logs_ingest(*, request: ExportLogsServiceRequest) -> IngestResult:
    """Store each valid log record, joined to its interaction when that span is already stored."""
    result = IngestResult()
    rows = []
    now = timezone.now()
    for index, (path, record, resource) in enumerate(_log_records_of(request=request)):
        try:
            rows.append(log_parse(record=record, resource=resource, now=now))
        except InvalidItem as error:
            result.reject(index=index, message=f"{path}: {error}")

    with transaction.atomic():
        _logs_store(rows=rows)
    result.accepted = len(rows)

    counters_add(counts={"logs_accepted": len(rows), "logs_rejected": result.rejected})
    logger.info("Log records ingested", extra={"stored": len(rows), "rejected": result.rejected})
    return result


def _log_records_of(*, request: ExportLogsServiceRequest) -> Iterator[tuple[str, object, dict]]:
    for resource_index, resource_logs in enumerate(request.resource_logs):
        resource = attributes_to_dict(resource_logs.resource.attributes)
        for scope_index, scope_logs in enumerate(resource_logs.scope_logs):
            for record_index, record in enumerate(scope_logs.log_records):
                path = (
                    f"resourceLogs[{resource_index}].scopeLogs[{scope_index}]"
                    f".logRecords[{record_index}]"
                )
                yield path, record, resource


def _logs_store(*, rows: list[LogRow]) -> None:
    if not rows:
        return

    customers = customer_services.customers_ensure(
        customer_ids={row.customer_id for row in rows if row.customer_id}
    )
    linked = [row for row in rows if row.span_id]
    interactions = {
        (i.trace_id, i.span_id): i
        for i in Interaction.objects.filter(
            trace_id__in={row.trace_id for row in linked},
            span_id__in={row.span_id for row in linked},
        ).only("pk", "trace_id", "span_id", "customer_id")
    }

    records = [
        _log_record_build(row=row, customers=customers, interactions=interactions) for row in rows
    ]
    log_templates_assign(records=records)
    # NOTE: log records carry no unique id, so a log batch sent twice is stored twice.
    LogRecord.objects.bulk_create(records)


def _log_record_build(*, row: LogRow, customers, interactions) -> LogRecord:
    interaction = interactions.get((row.trace_id, row.span_id))
    customer_pk = None
    if row.customer_id:
        customer_pk = customers[row.customer_id].pk
    elif interaction is not None:
        customer_pk = interaction.customer_id

    return LogRecord(
        interaction=interaction,
        customer_id=customer_pk,
        service_name=row.service_name,
        timestamp=row.timestamp,
        severity_number=row.severity_number,
        severity_text=row.severity_text,
        body=row.body,
        attributes=row.attributes,
        trace_id=row.trace_id,
        span_id=row.span_id,
    )
