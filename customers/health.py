"""Customer health score: 100 plus the negative impact of each problem found, with reasons.

docs/health-score.md lists the factors and why each weighs what it does. The score reads the
current state (trial and agent status) and recent evidence only, so that a customer recovers as
soon as the problem is fixed even though the old errors stay in the interaction history.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.utils import timezone

from customers.models import Agent, AgentAssignment, Customer, Trial
from telemetry.models import Interaction

logger = logging.getLogger(__name__)

HealthStatus = Literal["healthy", "degraded", "critical"]

HEALTHY_MIN_SCORE = 80
DEGRADED_MIN_SCORE = 50

TRIAL_STUCK_IMPACT = -30
TRIAL_FAILED_IMPACT = -25
AGENT_STATUS_IMPACTS = {
    Agent.Status.DOWN: -25,
    Agent.Status.RESTARTING: -10,
    Agent.Status.DEGRADED: -10,
}
# Worst first: the customer's instance and the platform-wide agent can differ, and the worse one
# decides.
AGENT_STATUS_SEVERITY = [
    Agent.Status.DOWN,
    Agent.Status.RESTARTING,
    Agent.Status.DEGRADED,
]

RECENT_ERRORS_WINDOW = timedelta(hours=1)
RECENT_TIMEOUT_IMPACT = -10
RECENT_FAILURE_IMPACT = -5
RECENT_ERRORS_MAX_IMPACT = -30

ERROR_RATE_WINDOW = timedelta(hours=24)
# (minimum share of failed or timed-out interactions, impact), highest share first.
ERROR_RATE_IMPACTS = [(0.25, -10), (0.10, -5)]
# Caps the window query for customers with heavy traffic, because the newest rows are the
# evidence that matters.
RECENT_INTERACTIONS_LIMIT = 500

NO_ACTIVITY_AFTER = timedelta(minutes=30)
NO_ACTIVITY_IMPACT = -10


@dataclass(frozen=True)
class Factor:
    name: str
    impact: int
    detail: str


@dataclass(frozen=True)
class HealthScore:
    score: int
    status: HealthStatus
    factors: list[Factor] = field(default_factory=list)

    @property
    def band(self) -> str:
        """Traffic-light colour of the status: green, yellow or red."""
        return {"healthy": "green", "degraded": "yellow", "critical": "red"}[self.status]


@dataclass(frozen=True)
class RecentInteraction:
    agent_name: str
    status: str
    started_at: datetime


def health_status_from_score(score: int) -> HealthStatus:
    if score >= HEALTHY_MIN_SCORE:
        return "healthy"
    if score >= DEGRADED_MIN_SCORE:
        return "degraded"
    return "critical"


def health_score_for(
    *,
    customer: Customer,
    trials: Sequence[Trial] | None = None,
    assignments: Sequence[AgentAssignment] | None = None,
    now: datetime | None = None,
) -> HealthScore:
    """Score a customer's health.

    Callers that already loaded the customer's active trials or assignments (with their agents)
    pass them in to save the queries.
    """
    now = now or timezone.now()
    if trials is None:
        trials = list(customer.trials.filter(status__in=Trial.ACTIVE_STATUSES))
    if assignments is None:
        assignments = list(customer.assignments.select_related("agent"))
    recent = recent_interactions_list(customer=customer, now=now)

    return health_score_compute(
        trials=trials,
        assignments=assignments,
        recent_interactions=recent,
        last_activity_at=customer.last_activity_at,
        now=now,
    )


def health_status_for(customer: Customer) -> str:
    return health_score_for(customer=customer).status


def recent_interactions_list(*, customer: Customer, now: datetime) -> list[RecentInteraction]:
    """Load the customer's interactions of the error-rate window, newest first, bounded."""
    rows = (
        Interaction.objects.filter(customer=customer, started_at__gte=now - ERROR_RATE_WINDOW)
        .order_by("-started_at", "-id")
        .values_list("agent__name", "status", "started_at")[:RECENT_INTERACTIONS_LIMIT]
    )
    return [RecentInteraction(*row) for row in rows]


def health_score_compute(
    *,
    trials: Iterable[Trial],
    assignments: Iterable[AgentAssignment],
    recent_interactions: Sequence[RecentInteraction],
    last_activity_at: datetime | None,
    now: datetime,
) -> HealthScore:
    """Compute the score from already loaded state. Trials that are not active are ignored."""
    active_trials = [trial for trial in trials if trial.is_active]
    factors = [
        *trial_factors(trials=active_trials),
        *agent_status_factors(assignments=assignments),
        *recent_error_factors(recent_interactions=recent_interactions, now=now),
        *error_rate_factors(recent_interactions=recent_interactions),
        *no_activity_factors(trials=active_trials, last_activity_at=last_activity_at, now=now),
    ]

    score = max(0, min(100, 100 + sum(factor.impact for factor in factors)))
    return HealthScore(score=score, status=health_status_from_score(score), factors=factors)


def trial_factors(*, trials: Iterable[Trial]) -> list[Factor]:
    factors = []
    for trial in trials:
        position = f"step {trial.current_step}/{trial.total_steps}"
        if trial.step_name:
            position = f"{position} ({trial.step_name})"
        if trial.status == Trial.Status.STUCK:
            detail = f"Trial {trial.trial_id} is stuck at {position}."
            factors.append(Factor("trial_stuck", TRIAL_STUCK_IMPACT, detail))
        elif trial.status == Trial.Status.FAILED:
            detail = f"Trial {trial.trial_id} failed at {position}."
            factors.append(Factor("trial_failed", TRIAL_FAILED_IMPACT, detail))
    return factors


def agent_status_effective(assignment: AgentAssignment) -> str:
    """Return the worse of the customer's instance status and the agent's platform-wide status."""
    statuses = {assignment.status, assignment.agent.status}
    for status in AGENT_STATUS_SEVERITY:
        if status in statuses:
            return status
    return assignment.status


def agent_status_factors(*, assignments: Iterable[AgentAssignment]) -> list[Factor]:
    factors = []
    for assignment in assignments:
        status = agent_status_effective(assignment)
        impact = AGENT_STATUS_IMPACTS.get(status)
        if impact is None:
            continue
        label = Agent.Status(status).label.lower()
        detail = f"{assignment.agent.name} is {label} for this customer."
        factors.append(Factor(f"agent_{label}", impact, detail))
    return factors


def unresolved_errors_by_agent(
    *, recent_interactions: Sequence[RecentInteraction], now: datetime
) -> dict[str, list[str]]:
    """Collect, per agent, the error statuses of the last hour that no later success followed.

    A success of the same agent after an error shows the agent works again (for example after a
    restart), so the error no longer counts. recent_interactions must be newest first.
    """
    window_start = now - RECENT_ERRORS_WINDOW
    recovered_agents: set[str] = set()
    errors: dict[str, list[str]] = defaultdict(list)
    for interaction in recent_interactions:
        if interaction.started_at < window_start:
            break
        if interaction.status == Interaction.Status.SUCCESS:
            recovered_agents.add(interaction.agent_name)
        elif interaction.agent_name not in recovered_agents:
            errors[interaction.agent_name].append(interaction.status)
    return dict(errors)


def recent_error_factors(
    *, recent_interactions: Sequence[RecentInteraction], now: datetime
) -> list[Factor]:
    errors = unresolved_errors_by_agent(recent_interactions=recent_interactions, now=now)
    if not errors:
        return []

    impact = 0
    parts = []
    for agent_name, statuses in sorted(errors.items()):
        timeouts = statuses.count(Interaction.Status.TIMEOUT)
        failures = len(statuses) - timeouts
        impact += timeouts * RECENT_TIMEOUT_IMPACT + failures * RECENT_FAILURE_IMPACT
        parts.append(
            f"{agent_name}: {count_text(timeouts, 'timeout')}, {count_text(failures, 'failure')}"
        )

    detail = f"Errors in the last hour with no success since: {'; '.join(parts)}."
    return [Factor("recent_errors", max(impact, RECENT_ERRORS_MAX_IMPACT), detail)]


def count_text(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def error_rate_factors(*, recent_interactions: Sequence[RecentInteraction]) -> list[Factor]:
    total = len(recent_interactions)
    errors = sum(1 for item in recent_interactions if item.status != Interaction.Status.SUCCESS)
    if not errors:
        return []

    share = errors / total
    for minimum_share, impact in ERROR_RATE_IMPACTS:
        if share >= minimum_share:
            detail = (
                f"{errors} of {total} interactions failed or timed out in the last 24 h "
                f"({round(100 * share)}%)."
            )
            return [Factor("error_rate_24h", impact, detail)]
    return []


def no_activity_factors(
    *, trials: Sequence[Trial], last_activity_at: datetime | None, now: datetime
) -> list[Factor]:
    """Flag running trials whose customer has shown no activity for a while.

    Stuck and failed trials already carry their own, larger impact.
    """
    running = [trial for trial in trials if trial.status == Trial.Status.RUNNING]
    if not running:
        return []

    activity_times = [trial.last_activity_at for trial in running]
    if last_activity_at is not None:
        activity_times.append(last_activity_at)
    if now - max(activity_times) < NO_ACTIVITY_AFTER:
        return []

    minutes = int(NO_ACTIVITY_AFTER.total_seconds() // 60)
    detail = f"A trial is running but the customer has shown no activity for {minutes} minutes."
    return [Factor("no_recent_activity", NO_ACTIVITY_IMPACT, detail)]
