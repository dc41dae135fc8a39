"""Interactions (agent calls): the bulk of the data set, drawn for customers by activity weight.

Each interaction is drawn for a random customer with probability proportional to that customer's
weight, so a heavy customer's rows are spread over the table as they would be after months of
ingest. The counters ingest keeps (assignment counts, last activity, agents per trial) are
accumulated on the way, so the rows written afterwards agree with the interactions.
"""

import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence

from bench.copying import CHUNK, UTC, Progress, rows_copy
from bench.plan import CustomerPlan, Sizes, TrialPlan, trial_id_of, zeros
from bench.pools import AGENT_NAMES, AGENT_OPERATIONS, AGENT_SHARES, FAILURES, TIMEOUTS
from telemetry.models import Interaction

AGENT_COUNT = len(AGENT_NAMES)
# Failure and timeout rates per agent, in AGENT_NAMES order. WowMemory times out most often,
# as it does in the demo story when its database pool runs dry.
FAILURE_RATES = (0.015, 0.02, 0.02, 0.01, 0.015)
TIMEOUT_RATES = (0.004, 0.025, 0.006, 0.003, 0.004)
# Share of interactions that belong to one of the customer's trials.
TRIAL_LINKED_SHARE = 0.7
# Interactions come in traces of this many spans.
SPANS_PER_TRACE = 4
# Odd multipliers map ids to random-looking trace and span ids that stay unique.
TRACE_MULTIPLIER = 0x9E3779B97F4A7C15F39CC0605CEDC835
SPAN_MULTIPLIER = 0x9E3779B97F4A7C15
MASK_128 = (1 << 128) - 1
MASK_64 = (1 << 64) - 1

# Call durations are drawn from pools of this many exponential draws, which is much faster than
# one expovariate call per row and just as skewed.
DURATION_POOL_SIZE = 4096
SUCCESS_MEAN_MS = 120
FAILURE_MEAN_MS = 400

COLUMNS = (
    "id", "customer_id", "agent_id", "trial_id", "workflow_step", "operation", "service_name",
    "request_body", "response_body", "started_at", "duration_ms", "status", "error_type",
    "error_message", "retry_count", "trace_id", "span_id", "parent_span_id", "attributes",
    "received_at",
)  # fmt: skip


class ActivityCounters:
    """Counters of the generated interactions, per (customer, agent) pair.

    Pair p is customer p // AGENT_COUNT with agent p % AGENT_COUNT, in AGENT_NAMES order.
    """

    def __init__(self, *, customers: int) -> None:
        pairs = customers * AGENT_COUNT
        self.interactions = zeros("I", pairs)
        self.errors = zeros("I", pairs)
        self.timeouts = zeros("I", pairs)
        self.last_at = zeros("d", pairs)


def duration_pools(*, rng: random.Random) -> tuple[list[int], list[int]]:
    return (
        [int(rng.expovariate(1 / SUCCESS_MEAN_MS)) for _ in range(DURATION_POOL_SIZE)],
        [int(rng.expovariate(1 / FAILURE_MEAN_MS)) for _ in range(DURATION_POOL_SIZE)],
    )


def interactions_copy(
    *,
    sizes: Sizes,
    customers: CustomerPlan,
    trials: TrialPlan,
    customer_ids: Sequence[str],
    agent_pks: Sequence[int],
    rng: random.Random,
    now: float,
    progress: Progress,
) -> ActivityCounters:
    """COPY sizes.interactions interactions and return the counters they add up to."""
    counters = ActivityCounters(customers=sizes.customers)
    batches = interaction_batches(
        sizes=sizes, customers=customers, trials=trials, customer_ids=customer_ids,
        agent_pks=agent_pks, counters=counters, rng=rng, now=now,
    )  # fmt: skip
    rows_copy(model=Interaction, columns=COLUMNS, batches=batches, progress=progress)
    return counters


def interaction_batches(
    *,
    sizes: Sizes,
    customers: CustomerPlan,
    trials: TrialPlan,
    customer_ids: Sequence[str],
    agent_pks: Sequence[int],
    counters: ActivityCounters,
    rng: random.Random,
    now: float,
) -> Iterator[list[tuple]]:
    agent_cum_weights = list(itertools.accumulate(AGENT_SHARES))
    for start in range(0, sizes.interactions, CHUNK):
        size = min(CHUNK, sizes.interactions - start)
        picked_customers = rng.choices(
            range(sizes.customers), cum_weights=customers.cum_weights, k=size
        )
        picked_agents = rng.choices(range(AGENT_COUNT), cum_weights=agent_cum_weights, k=size)
        yield interaction_batch(
            first_pk=start + 1, picked_customers=picked_customers, picked_agents=picked_agents,
            customers=customers, trials=trials, customer_ids=customer_ids, agent_pks=agent_pks,
            counters=counters, rng=rng, now=now,
        )  # fmt: skip


def interaction_batch(
    *,
    first_pk: int,
    picked_customers: list[int],
    picked_agents: list[int],
    customers: CustomerPlan,
    trials: TrialPlan,
    customer_ids: Sequence[str],
    agent_pks: Sequence[int],
    counters: ActivityCounters,
    rng: random.Random,
    now: float,
) -> list[tuple]:
    """Build one batch of interaction rows.

    This loop runs ten million times at full scale, so it binds everything it reads to locals
    and inlines what would otherwise be small helper calls.
    """
    random_value = rng.random
    fromtimestamp = dt.datetime.fromtimestamp
    success_durations, failure_durations = duration_pools(rng=rng)
    trial_first, trial_count = customers.trial_first, customers.trial_count
    customer_last = customers.last_activity_at
    trial_started, trial_last = trials.started_at, trials.last_activity_at
    trial_step, trial_agents = trials.current_step, trials.agent_bits
    pair_interactions, pair_errors = counters.interactions, counters.errors
    pair_timeouts, pair_last = counters.timeouts, counters.last_at
    operations = [AGENT_OPERATIONS[name] for name in AGENT_NAMES]
    window_start = now - 90 * 86_400.0
    rows = []
    append = rows.append

    for offset, customer in enumerate(picked_customers):
        pk = first_pk + offset
        agent = picked_agents[offset]
        customer_id = customer_ids[customer]
        agent_name = AGENT_NAMES[agent]
        operation = operations[agent][int(random_value() * 4)]
        attributes = (
            f'{{"customer.id": "{customer_id}", "gen_ai.agent.name": "{agent_name}", '
            f'"gen_ai.operation.name": "{operation}"'
        )

        count = trial_count[customer]
        if count and random_value() < TRIAL_LINKED_SHARE:
            trial = trial_first[customer] + int(random_value() * count)
            started = trial_started[trial]
            started_at = started + random_value() * (trial_last[trial] - started)
            step = 1 + int(random_value() * trial_step[trial])
            trial_agents[trial] |= 1 << agent
            trial_pk = trial + 1
            attributes += f', "workflow.id": "{trial_id_of(trial)}", "workflow.step": {step}}}'
        else:
            active_from = max(customers.created_at[customer], window_start)
            started_at = active_from + random_value() * (now - active_from)
            step = trial_pk = None
            attributes += "}"

        pair = customer * AGENT_COUNT + agent
        pair_interactions[pair] += 1
        if started_at > pair_last[pair]:
            pair_last[pair] = started_at
        if started_at > customer_last[customer]:
            customer_last[customer] = started_at

        outcome = random_value()
        retry_count = 0
        if outcome < TIMEOUT_RATES[agent]:
            status = "timeout"
            error_type, error_message = TIMEOUTS[int(random_value() * len(TIMEOUTS))]
            duration_ms = 10_000 + int(random_value() * 20_005)
            response_body = ""
            retry_count = int(random_value() * 3)
            pair_errors[pair] += 1
            pair_timeouts[pair] += 1
        elif outcome < TIMEOUT_RATES[agent] + FAILURE_RATES[agent]:
            status = "failed"
            error_type, error_message = FAILURES[int(random_value() * len(FAILURES))]
            duration_ms = failure_durations[int(random_value() * DURATION_POOL_SIZE)]
            response_body = f'{{"error": "{error_type}"}}'
            retry_count = int(random_value() * 3)
            pair_errors[pair] += 1
        else:
            status = "success"
            error_type = error_message = ""
            duration_ms = success_durations[int(random_value() * DURATION_POOL_SIZE)]
            response_body = f'{{"status": "ok", "items": {int(random_value() * 20)}}}'

        trace = pk // SPANS_PER_TRACE
        first_span = trace * SPANS_PER_TRACE
        append((
            pk, customer + 1, agent_pks[agent], trial_pk, step, operation, agent_name,
            f'{{"operation": "{operation}", "customer_id": "{customer_id}", "step": {step or 0}}}',
            response_body, fromtimestamp(started_at, UTC), duration_ms, status, error_type,
            error_message, retry_count, f"{(trace * TRACE_MULTIPLIER) & MASK_128:032x}",
            f"{(pk * SPAN_MULTIPLIER) & MASK_64:016x}",
            "" if pk == first_span else f"{(first_span * SPAN_MULTIPLIER) & MASK_64:016x}",
            attributes, fromtimestamp(started_at + duration_ms / 1000 + 0.2, UTC),
        ))  # fmt: skip
    return rows
