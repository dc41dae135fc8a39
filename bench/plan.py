"""The shape of a generated data set: how many rows, and how activity is spread over customers.

Activity is skewed the way a platform's usage is: most customers have a handful of interactions,
while a Zipf-like tail gives the largest few customers over 100,000 each at full scale.
"""

import itertools
import math
import random
from array import array
from dataclasses import dataclass

FULL_SCALE_CUSTOMERS = 1_000_000
FULL_SCALE_TRIALS = 3_000_000
FULL_SCALE_INTERACTIONS = 10_000_000

# The heavy tail: this share of all interactions goes to one customer in a hundred, weighted
# 1/rank. At full scale the first four ranks get about 460k, 230k, 150k and 115k interactions.
TAIL_SHARE = 0.45
TAIL_FRACTION = 0.01
# Per-customer activity outside the tail varies by a log-normal factor with this sigma.
BASE_SIGMA = 0.75

DAY = 86_400.0
# Interactions and trials fall inside this many days before generation.
ACTIVITY_DAYS = 90
SIGNUP_DAYS = 730

# Trials per customer and their weights, a mean of about three.
TRIAL_COUNTS = (0, 1, 2, 3, 4, 5, 6, 7, 8)
TRIAL_COUNT_WEIGHTS = tuple(itertools.accumulate((8, 18, 20, 17, 13, 10, 7, 4, 3)))
# The largest customers by activity run many more trials.
HEAVY_TRIAL_RANKS = 100

TRIAL_STATUSES = ("RUNNING", "STUCK", "FAILED", "COMPLETED")
RUNNING, STUCK, FAILED, COMPLETED = range(4)
# Status of a customer's latest trial, and of the earlier ones, as cumulative weights.
LATEST_STATUS_WEIGHTS = tuple(itertools.accumulate((35, 8, 7, 50)))
EARLIER_STATUS_WEIGHTS = tuple(itertools.accumulate((0, 0, 12, 88)))
TOTAL_STEPS = (10, 12, 15, 15, 15, 20)

DEMO_CUSTOMER_ID = "cust-123"
DEMO_TRIAL_ID = "trial-wf-12345"
DEMO_STUCK_STEP = 7


@dataclass(frozen=True)
class Sizes:
    customers: int
    trials: int
    interactions: int

    @classmethod
    def from_scale(cls, *, scale: float) -> "Sizes":
        if scale <= 0:
            raise ValueError(f"Scale must be positive, got {scale}.")
        return cls(
            customers=max(10, round(FULL_SCALE_CUSTOMERS * scale)),
            trials=max(10, round(FULL_SCALE_TRIALS * scale)),
            interactions=max(10, round(FULL_SCALE_INTERACTIONS * scale)),
        )

    @property
    def tail_customers(self) -> int:
        return max(5, round(self.customers * TAIL_FRACTION))


def zeros(typecode: str, length: int) -> array:
    return array(typecode, [0]) * length


def customer_id_of(index: int) -> str:
    """Return the platform's id of the customer at `index`; index 0 is the demo story's customer."""
    return DEMO_CUSTOMER_ID if index == 0 else f"cust-{100_000 + index}"


def trial_id_of(index: int) -> str:
    return DEMO_TRIAL_ID if index == 0 else f"trial-wf-{100_000 + index}"


@dataclass
class CustomerPlan:
    """Per-customer arrays, indexed by customer index (primary key minus one)."""

    created_at: array
    # Cumulative weights of each customer's share of interactions, for random.choices.
    cum_weights: list[float]
    # Tail customers, the heaviest first.
    heavy: list[int]
    trial_first: array
    trial_count: array
    last_activity_at: array

    def active_from(self, *, index: int, now: float) -> float:
        return max(self.created_at[index], now - ACTIVITY_DAYS * DAY)


@dataclass
class TrialPlan:
    """Per-trial arrays, indexed by trial index (primary key minus one)."""

    customer: array
    started_at: array
    last_activity_at: array
    status: array
    total_steps: array
    current_step: array
    # Bit i is set when agent i (in pools.AGENT_NAMES order) served the trial.
    agent_bits: array


def customers_plan(*, sizes: Sizes, rng: random.Random, now: float) -> CustomerPlan:
    count = sizes.customers
    created_at = array("d", (now - rng.uniform(DAY, SIGNUP_DAYS * DAY) for _ in range(count)))
    created_at[0] = now - SIGNUP_DAYS * DAY

    heavy = rng.sample(range(1, count), min(sizes.tail_customers, count - 1))
    weights = [rng.lognormvariate(0, BASE_SIGMA) for _ in range(count)]
    base_scale = (1 - TAIL_SHARE) / math.fsum(weights)
    weights = [weight * base_scale for weight in weights]
    harmonic = math.fsum(1 / rank for rank in range(1, len(heavy) + 1))
    for rank, index in enumerate(heavy, start=1):
        weights[index] += TAIL_SHARE / (harmonic * rank)

    return CustomerPlan(
        created_at=created_at,
        cum_weights=list(itertools.accumulate(weights)),
        heavy=heavy,
        trial_first=zeros("I", count),
        trial_count=zeros("H", count),
        last_activity_at=zeros("d", count),
    )


def trial_counts_draw(*, sizes: Sizes, customers: CustomerPlan, rng: random.Random) -> list[int]:
    """Draw how many trials each customer ran, adjusted so that they add up to sizes.trials."""
    counts = rng.choices(TRIAL_COUNTS, cum_weights=TRIAL_COUNT_WEIGHTS, k=sizes.customers)
    counts[0] = max(counts[0], 1)
    for rank, index in enumerate(customers.heavy[:HEAVY_TRIAL_RANKS], start=1):
        counts[index] = max(counts[index], 20 + 400 // rank)

    difference = sizes.trials - sum(counts)
    while difference:
        index = int(rng.random() * sizes.customers)
        if difference > 0:
            counts[index] += 1
            difference -= 1
        elif counts[index] > (1 if index == 0 else 0):
            counts[index] -= 1
            difference += 1
    return counts


def trials_plan(
    *, sizes: Sizes, customers: CustomerPlan, rng: random.Random, now: float
) -> TrialPlan:
    counts = trial_counts_draw(sizes=sizes, customers=customers, rng=rng)
    total = sizes.trials
    trials = TrialPlan(
        customer=zeros("I", total),
        started_at=zeros("d", total),
        last_activity_at=zeros("d", total),
        status=zeros("B", total),
        total_steps=zeros("B", total),
        current_step=zeros("B", total),
        agent_bits=zeros("B", total),
    )

    position = 0
    for index, count in enumerate(counts):
        customers.trial_first[index] = position
        customers.trial_count[index] = count
        active_from = customers.active_from(index=index, now=now)
        starts = sorted(rng.uniform(active_from, now - 600) for _ in range(count))
        for order, started_at in enumerate(starts):
            latest = order == count - 1
            trial_fill(trials=trials, index=position, customer=index, started_at=started_at,
                       latest=latest, rng=rng, now=now)  # fmt: skip
            last = trials.last_activity_at[position]
            if last > customers.last_activity_at[index]:
                customers.last_activity_at[index] = last
            position += 1

    demo_trial_fill(trials=trials, now=now)
    customers.last_activity_at[0] = max(customers.last_activity_at[0], trials.last_activity_at[0])
    return trials


def trial_fill(
    *,
    trials: TrialPlan,
    index: int,
    customer: int,
    started_at: float,
    latest: bool,
    rng: random.Random,
    now: float,
) -> None:
    weights = LATEST_STATUS_WEIGHTS if latest else EARLIER_STATUS_WEIGHTS
    status = rng.choices(range(4), cum_weights=weights)[0]
    total_steps = TOTAL_STEPS[int(rng.random() * len(TOTAL_STEPS))]

    if status == COMPLETED:
        current_step = total_steps
        last_activity_at = min(now, started_at + rng.uniform(600, 3 * DAY))
    elif status == FAILED:
        current_step = 1 + int(rng.random() * total_steps)
        last_activity_at = min(now, started_at + rng.uniform(60, DAY))
    else:
        # An active trial started within the last three days and was seen recently.
        started_at = max(started_at, now - rng.uniform(600, 3 * DAY))
        current_step = 1 + int(rng.random() * (total_steps - 1))
        if status == STUCK:
            current_step = max(current_step, 2)
        last_activity_at = started_at + (now - started_at) * rng.random() ** 0.3

    trials.customer[index] = customer
    trials.started_at[index] = started_at
    trials.last_activity_at[index] = last_activity_at
    trials.status[index] = status
    trials.total_steps[index] = total_steps
    trials.current_step[index] = current_step


def demo_trial_fill(*, trials: TrialPlan, now: float) -> None:
    """Make trial 0 the demo story's trial: stuck at step 7 of 15 since a few minutes ago."""
    trials.started_at[0] = now - 3600
    trials.last_activity_at[0] = now - 300
    trials.status[0] = STUCK
    trials.total_steps[0] = 15
    trials.current_step[0] = DEMO_STUCK_STEP
