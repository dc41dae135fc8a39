from datetime import timedelta

import pytest
from django.utils import timezone

from customers.health import health_score_for, health_status_for, health_status_from_score
from customers.models import Agent, Trial
from telemetry.models import Interaction
from tests.factories import (
    AgentAssignmentFactory,
    AgentFactory,
    CustomerFactory,
    InteractionFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db


def factor_impacts(health) -> dict[str, int]:
    return {factor.name: factor.impact for factor in health.factors}


def story_customer_stuck():
    """Build the demo story's customer: trial stuck at step 7 and WowMemory timing out."""
    now = timezone.now()
    customer = CustomerFactory(customer_id="cust-123", name="John Doe", last_activity_at=now)

    memory = AgentFactory(name="WowMemory")
    orchestrator = AgentFactory(name="WowOrchestrator")
    AgentAssignmentFactory(customer=customer, agent=memory, interaction_count=4, error_count=2)
    AgentAssignmentFactory(customer=customer, agent=orchestrator, interaction_count=2)

    trial = TrialFactory(
        trial_id="trial-wf-12345",
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=7,
        step_name="retrieve_context",
        started_at=now - timedelta(minutes=15),
    )

    InteractionFactory(customer=customer, agent=memory, started_at=now - timedelta(minutes=12))
    InteractionFactory(
        customer=customer, agent=orchestrator, started_at=now - timedelta(minutes=11)
    )
    InteractionFactory(
        customer=customer, agent=orchestrator, started_at=now - timedelta(minutes=10)
    )
    for minutes_ago in (6, 3):
        InteractionFactory(
            customer=customer,
            agent=memory,
            operation="retrieve_context",
            status=Interaction.Status.TIMEOUT,
            duration_ms=30002,
            error_type="TimeoutError",
            error_message="Database connection timeout after 30s",
            started_at=now - timedelta(minutes=minutes_ago),
        )
    return customer, trial, memory


def test_healthy_customer_scores_hundred():
    customer = CustomerFactory()
    AgentAssignmentFactory(customer=customer)
    InteractionFactory(customer=customer)

    health = health_score_for(customer=customer)

    assert health.score == 100
    assert health.status == "healthy"
    assert health.band == "green"
    assert health.factors == []


def test_story_customer_is_degraded():
    customer, _trial, _memory = story_customer_stuck()

    health = health_score_for(customer=customer)

    impacts = factor_impacts(health)
    assert impacts["trial_stuck"] == -30
    assert impacts["recent_errors"] == -20
    assert impacts["error_rate_24h"] == -10
    assert health.score == 40
    assert health.status == "critical"
    assert health.band == "red"


def test_story_customer_recovers_after_fix():
    customer, trial, memory = story_customer_stuck()
    now = timezone.now()
    trial.status = Trial.Status.COMPLETED
    trial.current_step = 15
    trial.save()
    for minutes_ago in (2, 1):
        InteractionFactory(
            customer=customer,
            agent=memory,
            operation="retrieve_context",
            started_at=now - timedelta(minutes=minutes_ago),
        )
    InteractionFactory(customer=customer, agent=memory, started_at=now)
    InteractionFactory(customer=customer, agent=memory, started_at=now)

    health = health_score_for(customer=customer)

    assert factor_impacts(health) == {"error_rate_24h": -5}
    assert health.score == 95
    assert health.status == "healthy"


def test_error_without_later_success_counts():
    customer = CustomerFactory()
    agent = AgentFactory(name="WowCache")
    now = timezone.now()
    InteractionFactory(customer=customer, agent=agent, started_at=now - timedelta(minutes=5))
    InteractionFactory(
        customer=customer,
        agent=agent,
        status=Interaction.Status.FAILED,
        started_at=now - timedelta(minutes=1),
    )

    health = health_score_for(customer=customer)

    assert factor_impacts(health)["recent_errors"] == -5


def test_errors_older_than_hour_ignored():
    customer = CustomerFactory()
    agent = AgentFactory(name="WowCache")
    now = timezone.now()
    InteractionFactory(
        customer=customer,
        agent=agent,
        status=Interaction.Status.TIMEOUT,
        started_at=now - timedelta(hours=2),
    )
    for _ in range(9):
        InteractionFactory(customer=customer, agent=agent, started_at=now - timedelta(hours=3))

    health = health_score_for(customer=customer)

    assert "recent_errors" not in factor_impacts(health)
    assert factor_impacts(health)["error_rate_24h"] == -5


def test_recent_errors_impact_capped():
    customer = CustomerFactory()
    agent = AgentFactory(name="WowCache")
    for _ in range(6):
        InteractionFactory(customer=customer, agent=agent, status=Interaction.Status.TIMEOUT)

    health = health_score_for(customer=customer)

    assert factor_impacts(health)["recent_errors"] == -30


def test_errors_older_than_day_ignored():
    customer = CustomerFactory()
    InteractionFactory(
        customer=customer,
        status=Interaction.Status.FAILED,
        started_at=timezone.now() - timedelta(days=2),
    )

    health = health_score_for(customer=customer)

    assert health.score == 100


def test_failed_trial_costs_twenty_five():
    customer = CustomerFactory()
    TrialFactory(customer=customer, status=Trial.Status.FAILED)

    health = health_score_for(customer=customer)

    assert factor_impacts(health) == {"trial_failed": -25}
    assert health.score == 75
    assert health.status == "degraded"
    assert health.band == "yellow"


def test_two_stuck_trials_each_count():
    customer = CustomerFactory()
    TrialFactory(customer=customer, status=Trial.Status.STUCK)
    TrialFactory(customer=customer, status=Trial.Status.STUCK)

    health = health_score_for(customer=customer)

    assert [factor.impact for factor in health.factors] == [-30, -30]
    assert health.score == 40


@pytest.mark.parametrize(
    ("status", "factor_name", "impact"),
    [
        (Agent.Status.DOWN, "agent_down", -25),
        (Agent.Status.RESTARTING, "agent_restarting", -10),
        (Agent.Status.DEGRADED, "agent_degraded", -10),
    ],
)
def test_agent_instance_status_impact(status, factor_name, impact):
    customer = CustomerFactory()
    AgentAssignmentFactory(customer=customer, status=status)

    health = health_score_for(customer=customer)

    assert factor_impacts(health) == {factor_name: impact}


def test_platform_agent_status_counts():
    customer = CustomerFactory()
    agent = AgentFactory(name="WowDomain", status=Agent.Status.DOWN)
    AgentAssignmentFactory(customer=customer, agent=agent, status=Agent.Status.RUNNING)

    health = health_score_for(customer=customer)

    assert factor_impacts(health) == {"agent_down": -25}


def test_running_trial_without_activity():
    customer = CustomerFactory(last_activity_at=timezone.now() - timedelta(hours=2))
    TrialFactory(
        customer=customer,
        status=Trial.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=3),
    )

    health = health_score_for(customer=customer)

    assert factor_impacts(health) == {"no_recent_activity": -10}


def test_running_trial_with_activity():
    customer = CustomerFactory(last_activity_at=timezone.now())
    TrialFactory(customer=customer, status=Trial.Status.RUNNING)

    health = health_score_for(customer=customer)

    assert health.factors == []


def test_score_never_below_zero():
    customer = CustomerFactory()
    for _ in range(4):
        TrialFactory(customer=customer, status=Trial.Status.STUCK)

    health = health_score_for(customer=customer)

    assert health.score == 0
    assert health.status == "critical"


@pytest.mark.parametrize(
    ("score", "status"),
    [(100, "healthy"), (80, "healthy"), (79, "degraded"), (50, "degraded"), (49, "critical")],
)
def test_status_band_boundaries(score, status):
    assert health_status_from_score(score) == status


def test_health_status_for_returns_status():
    customer = CustomerFactory()
    TrialFactory(customer=customer, status=Trial.Status.STUCK)

    assert health_status_for(customer) == "degraded"
