"""COPY writers for trials, customers and agent assignments.

They run after the interactions, because each of these rows carries what the interactions add up
to: a trial's agents, a customer's last activity, an assignment's counters.
"""

import itertools
import json
import random
from collections.abc import Callable, Iterator, Sequence

from bench.copying import CHUNK, Progress, moment, rows_copy
from bench.interactions import AGENT_COUNT, ActivityCounters
from bench.people import Profile, ProfileMaker
from bench.plan import (
    COMPLETED,
    FAILED,
    STUCK,
    TRIAL_STATUSES,
    CustomerPlan,
    Sizes,
    TrialPlan,
    trial_id_of,
)
from bench.pools import AGENT_NAMES, FAILURES, PLANS, STEP_NAMES, TIMEOUTS
from customers.models import Agent, AgentAssignment, Customer, Trial

TRIAL_COLUMNS = (
    "id", "trial_id", "customer_id", "plan", "status", "current_step", "total_steps",
    "step_name", "status_detail", "agents_involved", "started_at", "last_activity_at",
    "step_started_at", "completed_at",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "id", "customer_id", "name", "email", "email_normalized", "phone", "phone_normalized",
    "company", "metadata", "created_at", "updated_at", "last_activity_at",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "customer_id", "agent_id", "status", "last_interaction_at", "interaction_count",
    "error_count", "timeout_count",
)  # fmt: skip
# agents_involved as JSON text for each set of agent bits, in AGENT_NAMES order.
AGENT_LISTS = tuple(
    json.dumps([name for position, name in enumerate(AGENT_NAMES) if bits & (1 << position)])
    for bits in range(1 << AGENT_COUNT)
)
PLAN_METADATA = tuple(json.dumps({"plan": plan}) for plan in PLANS)


def trials_copy(*, sizes: Sizes, trials: TrialPlan, rng: random.Random, progress: Progress) -> None:
    batches = (
        [
            trial_row(index=index, trials=trials, rng=rng)
            for index in range(start, min(start + CHUNK, sizes.trials))
        ]
        for start in range(0, sizes.trials, CHUNK)
    )
    rows_copy(model=Trial, columns=TRIAL_COLUMNS, batches=batches, progress=progress)


def trial_row(*, index: int, trials: TrialPlan, rng: random.Random) -> tuple:
    status = trials.status[index]
    current_step = trials.current_step[index]
    step_name = STEP_NAMES[(current_step - 1) % len(STEP_NAMES)]
    started_at = trials.started_at[index]
    last_activity_at = trials.last_activity_at[index]

    if index == 0:
        step_name = "retrieve_context"
        detail = TIMEOUTS[0][1]
    elif status == STUCK:
        detail = f"Step {current_step} ({step_name}) has made no progress since its last update"
    elif status == FAILED:
        detail = FAILURES[int(rng.random() * len(FAILURES))][1]
    else:
        detail = ""

    step_started_at = last_activity_at - rng.random() * min(3600.0, last_activity_at - started_at)
    # The orchestrator drives every trial, even one with no recorded interaction yet.
    agents = AGENT_LISTS[trials.agent_bits[index] | 1]
    return (
        index + 1, trial_id_of(index), trials.customer[index] + 1,
        PLANS[int(rng.random() ** 2 * len(PLANS))], TRIAL_STATUSES[status], current_step,
        trials.total_steps[index], step_name, detail, agents, moment(started_at),
        moment(last_activity_at), moment(step_started_at),
        moment(last_activity_at) if status == COMPLETED else None,
    )  # fmt: skip


def customers_copy(
    *,
    sizes: Sizes,
    customers: CustomerPlan,
    customer_ids: Sequence[str],
    rng: random.Random,
    now: float,
    email_normalize: Callable[[str], str],
    phone_normalize: Callable[[str], str],
    progress: Progress,
) -> None:
    maker = ProfileMaker(rng=rng)

    def batches() -> Iterator[list[tuple]]:
        for start in range(0, sizes.customers, CHUNK):
            numbers = range(start, min(start + CHUNK, sizes.customers))
            profiles = maker.profiles_make(numbers=numbers)
            if start == 0:
                profiles[0] = DEMO_PROFILE
            yield [
                customer_row(
                    index=index,
                    profile=profile,
                    customers=customers,
                    customer_ids=customer_ids,
                    rng=rng,
                    now=now,
                    email_normalize=email_normalize,
                    phone_normalize=phone_normalize,
                )
                for index, profile in zip(numbers, profiles, strict=True)
            ]

    rows_copy(model=Customer, columns=CUSTOMER_COLUMNS, batches=batches(), progress=progress)


DEMO_PROFILE = Profile(
    name="John Doe", email="john@example.com", phone="+1234567890", company="Acme Corp"
)


def customer_row(
    *,
    index: int,
    profile: Profile,
    customers: CustomerPlan,
    customer_ids: Sequence[str],
    rng: random.Random,
    now: float,
    email_normalize: Callable[[str], str],
    phone_normalize: Callable[[str], str],
) -> tuple:
    last_activity_at = customers.last_activity_at[index]
    return (
        index + 1, customer_ids[index], profile.name, profile.email,
        email_normalize(profile.email), profile.phone, phone_normalize(profile.phone),
        profile.company, PLAN_METADATA[int(rng.random() ** 2 * len(PLANS))],
        moment(customers.created_at[index]), moment(max(last_activity_at, now - 60)),
        moment(last_activity_at) if last_activity_at else None,
    )  # fmt: skip


def assignments_copy(
    *, counters: ActivityCounters, agent_pks: Sequence[int], rng: random.Random
) -> int:
    """Write one assignment per (customer, agent) pair that had interactions; return the count."""
    used_pairs = itertools.compress(itertools.count(), counters.interactions)
    rows = (
        assignment_row(pk=pk, pair=pair, counters=counters, agent_pks=agent_pks, rng=rng)
        for pk, pair in enumerate(used_pairs, start=1)
    )
    batches = iter(lambda: list(itertools.islice(rows, CHUNK)), [])
    return rows_copy(
        model=AgentAssignment, columns=ASSIGNMENT_COLUMNS, batches=batches, progress=lambda _: None
    )


def assignment_row(
    *, pk: int, pair: int, counters: ActivityCounters, agent_pks: Sequence[int], rng: random.Random
) -> tuple:
    customer, agent = divmod(pair, AGENT_COUNT)
    return (
        pk, customer + 1, agent_pks[agent], assignment_status(rng=rng),
        moment(counters.last_at[pair]), counters.interactions[pair], counters.errors[pair],
        counters.timeouts[pair],
    )  # fmt: skip


def assignment_status(*, rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.985:
        return Agent.Status.RUNNING.value
    if draw < 0.995:
        return Agent.Status.DEGRADED.value
    if draw < 0.998:
        return Agent.Status.RESTARTING.value
    return Agent.Status.DOWN.value
