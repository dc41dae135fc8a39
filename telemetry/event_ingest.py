"""Ingest of the platform's state events: customer upserts, trial progress and agent status.

Events are validated one by one, then applied in order to rows loaded for the whole batch and
written in bulk, so a batch costs a fixed number of queries whatever its size.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import services as customer_services
from telemetry.events import (
    AgentStatusChanged,
    CustomerUpserted,
    PlatformEventModel,
    TrialProgress,
    event_validate,
)
from telemetry.ingest import IngestResult, counters_add

logger = logging.getLogger(__name__)


def platform_events_ingest(*, events: list) -> IngestResult:
    """Apply state events in order, rejecting each invalid event by its index."""
    now = timezone.now()
    rejections: dict[int, str] = {}
    valid = []
    for index, event in enumerate(events):
        try:
            valid.append((index, event_validate(event=event, now=now)))
        except ValueError as error:
            rejections[index] = str(error)

    rejections.update(_events_apply_with_retry(events=valid))

    result = IngestResult(accepted=len(events) - len(rejections))
    for index in sorted(rejections):
        result.reject(index=index, message=rejections[index])
        logger.info("Platform event rejected", extra={"index": index, "error": rejections[index]})
    counters_add(counts={"events_accepted": result.accepted, "events_rejected": result.rejected})
    logger.info(
        "Platform events ingested", extra={"accepted": result.accepted, "rejected": result.rejected}
    )
    return result


def _events_apply_with_retry(*, events: list[tuple[int, PlatformEventModel]]) -> dict[int, str]:
    """Apply events, retrying once when a concurrent request created one of their rows first."""
    if not events:
        return {}
    try:
        with transaction.atomic():
            return _events_apply(events=events)
    except IntegrityError:
        logger.info("Event batch raced a concurrent insert; retrying", extra={"count": len(events)})
        with transaction.atomic():
            return _events_apply(events=events)


def _events_apply(*, events: list[tuple[int, PlatformEventModel]]) -> dict[int, str]:
    """Apply events to one PlatformStateBatch; return the rejections found while applying."""
    batch = _batch_load(events=[event for _, event in events])

    rejections = {}
    for index, event in events:
        try:
            _event_apply(batch=batch, event=event)
        except customer_services.CustomerNotFound as error:
            rejections[index] = str(error)

    batch.save()
    return rejections


def _batch_load(*, events: list[PlatformEventModel]) -> customer_services.PlatformStateBatch:
    customer_ids = set()
    trial_ids = set()
    agent_names = set()
    instances = set()
    for event in events:
        if isinstance(event, CustomerUpserted):
            customer_ids.add(event.customer.customer_id)
        elif isinstance(event, TrialProgress):
            customer_ids.add(event.customer_id)
            trial_ids.add(event.trial_id)
        else:
            agent_names.add(event.agent)
            if event.customer_id is not None:
                customer_ids.add(event.customer_id)
                instances.add((event.customer_id, event.agent))

    return customer_services.PlatformStateBatch.load(
        customer_ids=customer_ids,
        trial_ids=trial_ids,
        agent_names=agent_names,
        instances=instances,
    )


def _event_apply(*, batch: customer_services.PlatformStateBatch, event: PlatformEventModel):
    if isinstance(event, CustomerUpserted):
        profile = event.customer
        batch.customer_upsert(
            customer_id=profile.customer_id,
            values=customer_services.customer_profile_values(
                name=profile.name,
                email=profile.email,
                phone=profile.phone,
                company=profile.company,
                metadata=profile.metadata,
            ),
        )
    elif isinstance(event, TrialProgress):
        batch.trial_progress_apply(
            trial_id=event.trial_id,
            customer_id=event.customer_id,
            status=event.status,
            current_step=event.current_step,
            occurred_at=event.occurred_at,
            total_steps=event.total_steps,
            step_name=event.step_name,
            plan=event.plan,
            detail=event.detail,
            agents=event.agents,
        )
    elif isinstance(event, AgentStatusChanged):
        batch.agent_status_apply(
            agent_name=event.agent,
            status=event.status,
            occurred_at=event.occurred_at,
            version=event.version,
            customer_id=event.customer_id,
        )
