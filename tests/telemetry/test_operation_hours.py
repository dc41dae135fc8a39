"""The hourly operation rollup: kept by trace ingest, claimed on read when rows bypass ingest.

Every check compares against a plain Python aggregation of the raw Interaction rows, which is
what the detective's single SQL aggregate used to return.
"""

import datetime as dt
import logging
import random
import secrets
from collections import defaultdict
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from customers.models import Agent, Customer
from customers.trend import hour_of
from telemetry.models import Interaction, OperationHour
from telemetry.operation_hours import hour_ceil, operation_hours_claim
from telemetry.operation_totals import OperationTotals, operation_totals_list
from telemetry.services import traces_ingest
from tests.factories import AgentFactory, CustomerFactory
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
    hour_of(RECENT_SINCE) - dt.timedelta(microseconds=1),
    hour_of(RECENT_SINCE),
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


def totals_read(customer: Customer) -> list[OperationTotals]:
    return operation_totals_list(
        customer=customer, since=SINCE, recent_since=RECENT_SINCE, limit=200
    )


def expected_totals(customer: Customer) -> list[OperationTotals]:
    """Aggregate the customer's raw calls since SINCE in Python."""
    totals: dict[tuple[str, str], OperationTotals] = {}
    calls = Interaction.objects.filter(customer=customer).select_related("agent")
    for call in calls:
        if call.started_at < SINCE:
            continue
        key = (call.agent.name, call.operation)
        item = totals.setdefault(key, OperationTotals(agent=key[0], operation=key[1]))
        recent = call.started_at >= RECENT_SINCE
        problem = call.status in ("failed", "timeout")
        item.calls += 1
        item.failures += call.status == "failed"
        item.timeouts += call.status == "timeout"
        item.max_retries = max(item.max_retries, call.retry_count)
        if problem:
            item.first_problem_at = min(item.first_problem_at or call.started_at, call.started_at)
            item.last_problem_at = max(item.last_problem_at or call.started_at, call.started_at)
        if call.status == "success":
            item.last_success_at = max(item.last_success_at or call.started_at, call.started_at)
        if recent:
            item.recent_calls += 1
            item.recent_failures += call.status == "failed"
            item.recent_timeouts += call.status == "timeout"
        if call.status == "success" and recent:
            item.recent_successes += 1
            item.recent_success_ms += call.duration_ms
        if call.status == "success" and not recent:
            item.baseline_successes += 1
            item.baseline_success_ms += call.duration_ms
    return [totals[key] for key in sorted(totals)]


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
            groups[(hour_of(call.started_at), call.agent.name, call.operation)].append(call)

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
    assert Interaction.objects.filter(rolled_up=False).count() == 0


def test_ingest_totals_match_raw_rows(caplog):
    ingest(call_specs(count=300, seed=3))
    customer = Customer.objects.get(customer_id=CUSTOMER_ID)

    with caplog.at_level(logging.INFO, logger="telemetry.operation_totals"):
        totals = totals_read(customer)

    assert totals == expected_totals(customer)
    assert "Calls added to operation hours" not in caplog.messages


def test_late_call_lands_in_its_hour():
    ingest(call_specs(count=100, seed=4))
    customer = Customer.objects.get(customer_id=CUSTOMER_ID)
    totals_read(customer)
    late = {
        "started_at": NOW - dt.timedelta(hours=5, minutes=10),
        "agent": "WowMemory",
        "operation": "retrieve_context",
        "status": "timeout",
        "duration_ms": 30000,
        "retry_count": 9,
    }

    ingest([late])

    assert totals_read(customer) == expected_totals(customer)
    assert stored_hours(customer) == expected_hours(customer)


def test_bulk_rows_claimed_on_read(caplog):
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    bulk_insert(customer=customer, specs=call_specs(count=300, seed=5))
    start = hour_ceil(SINCE)
    end = hour_of(RECENT_SINCE)

    with caplog.at_level(logging.INFO, logger="telemetry.operation_hours"):
        totals = totals_read(customer)

    in_rolled_up_hours = Interaction.objects.filter(started_at__gte=start, started_at__lt=end)
    rolled_up = {key: row for key, row in expected_hours(customer).items() if start <= key[0] < end}
    assert totals == expected_totals(customer)
    assert "Calls added to operation hours" in caplog.messages
    assert stored_hours(customer) == rolled_up
    assert in_rolled_up_hours.filter(rolled_up=False).count() == 0
    assert Interaction.objects.filter(rolled_up=True).count() == in_rolled_up_hours.count()


def test_bulk_rows_among_ingested_ones():
    ingest(call_specs(count=200, seed=6))
    customer = Customer.objects.get(customer_id=CUSTOMER_ID)
    totals_read(customer)

    bulk_insert(customer=customer, specs=call_specs(count=50, seed=7))

    assert totals_read(customer) == expected_totals(customer)
    assert totals_read(customer) == expected_totals(customer)


def test_claim_covers_open_hours():
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    bulk_insert(customer=customer, specs=call_specs(count=200, seed=8))
    start = hour_of(SINCE)
    after_start = Interaction.objects.filter(started_at__gte=start).count()

    claimed = operation_hours_claim(customer=customer, start=start)

    assert claimed == after_start
    assert stored_hours(customer) == expected_hours(customer, start=start)


def test_claim_twice_counts_once():
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    bulk_insert(customer=customer, specs=call_specs(count=100, seed=15))
    operation_hours_claim(customer=customer, start=hour_of(SINCE))
    before = stored_hours(customer)

    claimed = operation_hours_claim(customer=customer, start=hour_of(SINCE))

    assert claimed == 0
    assert stored_hours(customer) == before


def test_claim_mid_hour_then_rest():
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    bulk_insert(customer=customer, specs=call_specs(count=200, seed=16))
    start = hour_of(SINCE)

    operation_hours_claim(customer=customer, start=start + dt.timedelta(minutes=30))
    operation_hours_claim(customer=customer, start=start)

    assert stored_hours(customer) == expected_hours(customer, start=start)


def test_claim_failure_reads_raw_calls(caplog):
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    bulk_insert(customer=customer, specs=call_specs(count=120, seed=9))
    # The upsert fails after the UPDATE marked the calls, so the marks must roll back.
    failing = mock.patch(
        "telemetry.operation_hours.operation_hours_record",
        side_effect=OperationalError("database is locked"),
    )

    with failing, caplog.at_level(logging.WARNING, logger="telemetry.operation_totals"):
        totals = totals_read(customer)

    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.name == "telemetry.operation_totals"
    ]
    assert totals == expected_totals(customer)
    assert warnings == ["Adding calls to operation hours failed. Reading the raw calls instead"]
    assert OperationHour.objects.count() == 0
    assert Interaction.objects.filter(rolled_up=True).count() == 0
    assert totals_read(customer) == expected_totals(customer)
    assert OperationHour.objects.count() > 0


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


def test_read_queries_independent_of_volume():
    ingest(call_specs(count=30, seed=11))
    small = Customer.objects.get(customer_id=CUSTOMER_ID)
    totals_read(small)
    with CaptureQueriesContext(connection) as small_queries:
        totals_read(small)

    for first in range(0, 600, 200):
        ingest(call_specs(count=200, seed=12 + first))

    with CaptureQueriesContext(connection) as large_queries:
        totals_read(small)

    # The check for unclaimed calls, the rolled-up hours and the raw calls of the partial hours.
    assert len(small_queries.captured_queries) == 3
    assert len(large_queries.captured_queries) == 3


def test_claim_queries_independent_of_volume():
    small = CustomerFactory(customer_id="cust-small")
    large = CustomerFactory(customer_id="cust-large")
    bulk_insert(customer=small, specs=call_specs(count=20, seed=13))
    bulk_insert(customer=large, specs=call_specs(count=600, seed=14))

    with CaptureQueriesContext(connection) as small_queries:
        totals_read(small)
    with CaptureQueriesContext(connection) as large_queries:
        totals_read(large)

    # The check, the claim's UPDATE and upsert inside a savepoint, the rolled-up hours and the
    # raw calls of the partial hours.
    assert len(small_queries.captured_queries) == 7
    assert len(large_queries.captured_queries) == 7


def test_limit_keeps_first_operations():
    customer = CustomerFactory(customer_id=CUSTOMER_ID)
    agent = AgentFactory(name="WowMemory")
    # Operation names sort so that the rolled-up hours and the partial hours interleave.
    specs = [
        {
            "started_at": (NOW - dt.timedelta(hours=10)) if index % 2 else NOW,
            "agent": agent.name,
            "operation": f"op-{index:02d}",
            "status": "success",
            "duration_ms": 10,
            "retry_count": 0,
        }
        for index in range(12)
    ]
    bulk_insert(customer=customer, specs=specs)

    totals = operation_totals_list(
        customer=customer, since=SINCE, recent_since=RECENT_SINCE, limit=5
    )

    assert [item.operation for item in totals] == ["op-00", "op-01", "op-02", "op-03", "op-04"]


@pytest.mark.django_db
def test_limit_cut_agrees_across_letter_case():
    customer = CustomerFactory()
    agent = AgentFactory(name="AgentX")
    now = dt.datetime.now(dt.UTC)
    early = now - dt.timedelta(hours=5)
    calls = [(f"a{index:03d}", Interaction.Status.SUCCESS, early) for index in range(200)]
    calls += [("B000", Interaction.Status.FAILED, early)] * 5
    calls += [("B000", Interaction.Status.SUCCESS, now - dt.timedelta(minutes=5))]
    Interaction.objects.bulk_create(
        Interaction(
            customer=customer,
            agent=agent,
            operation=operation,
            service_name="AgentX",
            started_at=started_at,
            status=status,
            trace_id=secrets.token_hex(16),
            span_id=secrets.token_hex(8),
        )
        for operation, status, started_at in calls
    )

    totals = operation_totals_list(
        customer=customer,
        since=now - dt.timedelta(hours=24),
        recent_since=now - dt.timedelta(hours=1),
        limit=200,
    )

    # Code point order puts upper case first, in SQL as in Python, whatever the collation.
    assert [(item.operation, item.calls, item.failures) for item in totals[:2]] == [
        ("B000", 6, 5),
        ("a000", 1, 0),
    ]
