"""Reads for quick actions: lookups, lists, audit history and the facts their checks need."""

from django.db.models import QuerySet

from actions.models import QuickAction
from customers.models import Agent, AgentAssignment, Customer, Trial
from telemetry.models import Interaction

RECENT_ACTIONS_LIMIT = 20


def customer_get(*, customer_id: str) -> Customer | None:
    return Customer.objects.filter(customer_id=customer_id).first()


def quick_action_get(*, action_id: str) -> QuickAction | None:
    return (
        QuickAction.objects.select_related("customer", "requested_by")
        .filter(action_id=action_id)
        .first()
    )


def quick_action_list_for_customer(
    *, customer: Customer, limit: int = RECENT_ACTIONS_LIMIT
) -> list[QuickAction]:
    return list(
        QuickAction.objects.select_related("requested_by")
        .filter(customer=customer)
        .order_by("-requested_at", "-id")[:limit]
    )


def quick_action_history(*, action: QuickAction) -> QuerySet:
    """Return the audit rows of one action, oldest first."""
    return action.history.select_related("history_user").order_by("history_date", "history_id")


def quick_action_open_for_customer(*, customer: Customer, kind: str) -> list[QuickAction]:
    """Return the customer's actions of this kind that are pending or running."""
    return list(
        QuickAction.objects.filter(
            customer=customer,
            kind=kind,
            status__in=(QuickAction.Status.PENDING, QuickAction.Status.RUNNING),
        ).order_by("requested_at")
    )


def agent_names_for_customer(*, customer: Customer) -> list[str]:
    return list(
        AgentAssignment.objects.filter(customer=customer)
        .order_by("agent__name")
        .values_list("agent__name", flat=True)
    )


def agent_is_known(*, name: str) -> bool:
    return Agent.objects.filter(name=name).exists()


def trial_get_for_customer(*, customer: Customer, trial_id: str) -> Trial | None:
    return Trial.objects.filter(customer=customer, trial_id=trial_id).first()


def trial_ids_for_customer(*, customer: Customer) -> list[str]:
    return list(
        Trial.objects.filter(customer=customer)
        .order_by("-started_at")
        .values_list("trial_id", flat=True)
    )


def trials_retryable_for_customer(*, customer: Customer) -> list[Trial]:
    return list(
        Trial.objects.filter(customer=customer, status__in=Trial.PROBLEM_STATUSES).order_by(
            "-started_at"
        )
    )


def trials_stuck_on_agent(*, customer: Customer, agent: str) -> list[Trial]:
    """Return the customer's stuck or failed trials whose current step waits on this agent.

    The agent of the last failed call at the trial's current step decides. A trial without such
    a call counts when the agent is among the trial's agents.
    """
    trials = []
    for trial in trials_retryable_for_customer(customer=customer):
        failing_agent = failing_agent_name(trial_id=trial.trial_id, step=trial.current_step)
        involved = agent in (trial.agents_involved or [])
        if failing_agent == agent or (failing_agent is None and involved):
            trials.append(trial)
    return trials


def failing_agent_name(*, trial_id: str, step: int) -> str | None:
    """Return the agent of the latest failed or timed-out call at this step of the trial."""
    interaction = (
        Interaction.objects.filter(
            trial__trial_id=trial_id,
            workflow_step=step,
            status__in=(Interaction.Status.FAILED, Interaction.Status.TIMEOUT),
        )
        .select_related("agent")
        .order_by("-started_at", "-id")
        .first()
    )
    return interaction.agent.name if interaction else None
