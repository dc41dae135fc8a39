"""The hourly operation rollup: kept by trace ingest, rebuilt when raw rows bypass ingest.

Every check compares against a plain Python aggregation of the raw Interaction rows.
"""

import datetime as dt
import random
import secrets
from collections import defaultdict

import pytest

from customers.models import Agent, Customer
from telemetry.models import Interaction, OperationHour
from telemetry.operation_hours import (
    hour_ceil,
    hour_floor,
    operation_hours_rebuild,
)
from telemetry.services import traces_ingest
from tests.factories import CustomerFactory
from tests.telemetry.otlp_builders import span_build, trace_request_build

pytestmark = pytest.mark.django_db

CUSTOMER_ID = "cust-rollup"
# A read at 14:25:30.25: the lookback starts at 14:25:30.25 the day before, the rolled-up hours
# run from 15:00 that day to 13:00, and the recent window starts at 13:25:30.25.
NOW = dt.datetime(2026, 1, 2, 14, 25, 30, 250000, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(hours=24)
RECENT_SINCE = NOW - dt.timedelta(hours=1)
AGENTS = ("WowMemory", "WowAPI", "WowCache")
OPERATIONS = ("retrieve_context", "store_context")
# Times on the edges of the lookback, the rolled-up hours and the recent window.
EDGE_TIMES = (
    SINCE - dt.timedelta(microseconds=1),
    SINCE,
    hour_ceil(SINCE) - dt.timedelta(microseconds=1),
    hour_ceil(SINCE),
    hour_floor(RECENT_SINCE) - dt.timedelta(microseconds=1),
    hour_floor(RECENT_SINCE),
    RECENT_SINCE - dt.timedelta(microseconds=1),
    RECENT_SINCE,
    NOW,
    NOW + dt.timedelta(minutes=5),
)


def call_specs(*, count: int, seed: int) -> list[dict]:
    """Return calls spread over the lookback and the hours around it, edge times first."""
    rng = random.Random(seed)
    times = [*EDGE_TIMES]
    times += [
        NOW - dt.timedelta(seconds=rng.uniform(-300, 26 * 3600))
        for _ in range(count - len(EDGE_TIMES))
    ]
    specs = []
    for index, started_at in enumerate(times):
        roll = rng.random()
        status = "success"
        if roll < 0.15:
            status = "timeout"
        elif roll < 0.3:
            status = "failed"
        specs.append(
            {
                "started_at": started_at,
                "agent": AGENTS[index % len(AGENTS)],
                "operation": OPERATIONS[rng.randrange(len(OPERATIONS))],
                "status": status,
                "duration_ms": rng.randrange(1, 5000),
                "retry_count": rng.randrange(4),
            }
        )
    return specs


def span_of(spec: dict):
    error_type = {"timeout": "TimeoutError", "failed": "ValueError"}.get(spec["status"], "")
    attributes = {
        "customer.id": CUSTOMER_ID,
        "gen_ai.agent.name": spec["agent"],
        "gen_ai.operation.name": spec["operation"],
        "agent.retry.count": spec["retry_count"],
    }
    if error_type:
        attributes["error.type"] = error_type
    return span_build(
        attributes=attributes,
        start=spec["started_at"],
        duration_ms=spec["duration_ms"],
        error="call failed" if error_type else "",
    )


def ingest(specs: list[dict]) -> None:
    result = traces_ingest(request=trace_request_build(*[span_of(spec) for spec in specs]))
    assert result.rejected == 0


def bulk_insert(*, customer: Customer, specs: list[dict]) -> None:
    """Insert calls as bulk loaders do, past trace ingest and so past the rollup."""
    agents = {name: Agent.objects.get_or_create(name=name)[0] for name in AGENTS}
    Interaction.objects.bulk_create(
        [
            Interaction(
                customer=customer,
                agent=agents[spec["agent"]],
                operation=spec["operation"],
                started_at=spec["started_at"],
                duration_ms=spec["duration_ms"],
                status=spec["status"],
                retry_count=spec["retry_count"],
                trace_id=secrets.token_hex(16),
                span_id=secrets.token_hex(8),
            )
            for spec in specs
        ]
    )


HOUR_FIELDS = (
    "calls",
    "failures",
    "timeouts",
    "successes",
    "success_duration_ms",
    "max_retries",
    "first_problem_at",
    "last_problem_at",
    "last_success_at",
)


def stored_hours(customer: Customer) -> dict[tuple, tuple]:
    return {
        (row.hour, row.agent.name, row.operation): tuple(getattr(row, name) for name in HOUR_FIELDS)
        for row in OperationHour.objects.filter(customer=customer).select_related("agent")
    }


def expected_hours(customer: Customer, *, start: dt.datetime | None = None) -> dict:
    """Aggregate the customer's raw calls per UTC hour in Python, from `start` when given."""
    groups = defaultdict(list)
    for call in Interaction.objects.filter(customer=customer).select_related("agent"):
        if start is None or call.started_at >= start:
            groups[(hour_floor(call.started_at), call.agent.name, call.operation)].append(call)

    hours = {}
    for key, calls in groups.items():
        problems = [call.started_at for call in calls if call.status in ("failed", "timeout")]
        successes = [call for call in calls if call.status == "success"]
        hours[key] = (
            len(calls),
            sum(call.status == "failed" for call in calls),
            sum(call.status == "timeout" for call in calls),
            len(successes),
            sum(call.duration_ms for call in successes),
            max(call.retry_count for call in calls),
            min(problems, default=None),
            max(problems, default=None),
            max((call.started_at for call in successes), default=None),
        )
    return hours


def test_ingest_keeps_hours_in_any_order():
    specs = call_specs(count=300, seed=1)
    shuffled = random.Random(2).sample(specs, k=len(specs))

    # Batches arrive out of order, and the last one contains calls of hours already stored.
    for first in range(0, len(shuffled), 70):
        ingest(shuffled[first : first + 70])
    customer = Customer.objects.get(customer_id=CUSTOMER_ID)

    assert stored_hours(customer) == expected_hours(customer)
    assert sum(row.calls for row in OperationHour.objects.all()) == 300


def test_rebuild_from_hour_covers_open_hours():
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    bulk_insert(customer=customer, specs=call_specs(count=200, seed=8))
    start = hour_floor(SINCE)

    operation_hours_rebuild(customer=customer, start=start)

    assert stored_hours(customer) == expected_hours(customer, start=start)


def test_rebuild_rejects_partial_hour():
    customer = CustomerFactory()

    with pytest.raises(ValueError, match="must be whole UTC hours"):
        operation_hours_rebuild(customer=customer, start=SINCE)


def test_calls_without_customer_not_rolled_up():
    specs = call_specs(count=20, seed=10)
    spans = [span_of(spec) for spec in specs]
    for span in spans:
        without_customer = [item for item in span.attributes if item.key != "customer.id"]
        del span.attributes[:]
        span.attributes.extend(without_customer)

    traces_ingest(request=trace_request_build(*spans))

    assert Interaction.objects.filter(customer__isnull=True).count() == 20
    assert OperationHour.objects.count() == 0
