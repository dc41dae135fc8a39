"""Diagnosis latency for a heavy customer: 100,000 interactions inserted in bulk, then timed.

All interactions fall inside the detective's 24-hour lookback, the worst case for its
aggregations. Each timed run is the product's diagnosis_create: evidence, detectors, reasoning,
related issues and the stored diagnosis.

Trace ingest adds calls to the hourly operation rollup as they arrive, but bulk inserts bypass
it. So the calls are added once after the insert, timed apart, and the timed diagnoses see the
rollup as they would for a customer whose calls came through ingest.
"""

import datetime as dt
import logging
import random
import time

from customers.models import Agent, AgentAssignment, Customer, Trial
from customers.trend import hour_of
from diagnostics.evidence import LOOKBACK
from diagnostics.services import diagnosis_create
from evaluation.measures import percentile
from telemetry.models import Interaction
from telemetry.operation_hours import operation_hours_claim

logger = logging.getLogger(__name__)

AGENTS = ("WowMemory", "WowOrchestrator", "WowCache", "WowDomain", "WowAPI")
OPERATIONS = ("retrieve_context", "plan_step", "cache_lookup", "classify_domain", "execute_tool")
BATCH_SIZE = 5000


def heavy_customer_create(*, customer_id: str, interactions: int, seed: int) -> Customer:
    """Create the customer, a stuck trial and `interactions` calls over the last 24 hours."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    customer = Customer.objects.create(customer_id=customer_id, name="Heavy Customer")
    agents = [Agent.objects.get_or_create(name=name)[0] for name in AGENTS]
    AgentAssignment.objects.bulk_create(
        [AgentAssignment(customer=customer, agent=agent) for agent in agents],
        ignore_conflicts=True,
    )
    trial = Trial.objects.create(
        trial_id=f"{customer_id}-trial",
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=7,
        total_steps=15,
        step_name="retrieve_context",
        started_at=now - dt.timedelta(hours=2),
        last_activity_at=now - dt.timedelta(minutes=1),
        step_started_at=now - dt.timedelta(minutes=15),
    )

    batch = []
    for index in range(interactions):
        batch.append(
            interaction_build(
                rng=rng, index=index, customer=customer, agents=agents, trial=trial, now=now
            )
        )
        if len(batch) == BATCH_SIZE:
            Interaction.objects.bulk_create(batch)
            batch = []
    Interaction.objects.bulk_create(batch)
    return customer


def interaction_build(*, rng, index, customer, agents, trial, now) -> Interaction:
    slot = index % len(agents)
    roll = rng.random()
    status = Interaction.Status.SUCCESS
    error_message = ""
    if roll < 0.01:
        status, error_message = Interaction.Status.TIMEOUT, "Database connection timeout after 30s"
    elif roll < 0.03:
        status, error_message = Interaction.Status.FAILED, "500 Internal Server Error"
    linked = rng.random() < 0.3
    return Interaction(
        customer=customer,
        agent=agents[slot],
        trial=trial if linked else None,
        workflow_step=rng.randint(1, 7) if linked else None,
        operation=OPERATIONS[slot],
        service_name=AGENTS[slot],
        started_at=now - dt.timedelta(seconds=rng.uniform(1, 86_000)),
        duration_ms=int(rng.expovariate(1 / 150)),
        status=status,
        error_type="TimeoutError" if status == Interaction.Status.TIMEOUT else "",
        error_message=error_message,
        trace_id=f"{index + 1:032x}",
        span_id=f"{index + 1:016x}",
    )


def diagnosis_latency(*, customer: Customer, runs: int) -> dict:
    """Time `runs` diagnoses after one warm-up run; return p50, p95 and max in milliseconds."""
    diagnosis_create(customer=customer)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        diagnosis_create(customer=customer)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "runs": runs,
        "p50_ms": percentile(values=timings, share=0.5),
        "p95_ms": percentile(values=timings, share=0.95),
        "max_ms": max(timings),
    }


def latency_run(*, interactions: int, runs: int, seed: int) -> dict:
    started = time.perf_counter()
    customer = heavy_customer_create(
        customer_id="cust-heavy-100k", interactions=interactions, seed=seed
    )
    insert_seconds = time.perf_counter() - started
    logger.info(
        "Heavy customer created",
        extra={"interactions": interactions, "seconds": round(insert_seconds, 1)},
    )

    started = time.perf_counter()
    # Every call started within the lookback, so this adds all of them.
    operation_hours_claim(customer=customer, start=hour_of(dt.datetime.now(dt.UTC) - LOOKBACK))
    rollup_seconds = time.perf_counter() - started
    logger.info("Calls added to operation hours", extra={"seconds": round(rollup_seconds, 2)})
    return {
        "interactions": interactions,
        "insert_seconds": insert_seconds,
        "rollup_seconds": rollup_seconds,
        **diagnosis_latency(customer=customer, runs=runs),
    }
