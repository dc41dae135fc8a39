"""JSON shapes of the customer API, built from what the selectors return."""

from typing import Any

from customers.health import HealthScore
from customers.models import AgentAssignment, Customer, Trial
from customers.selectors import CustomerOverview, TimelineEntry, TimelinePage


def overview_payload(*, overview: CustomerOverview) -> dict[str, Any]:
    customer = overview.customer
    return {
        "customer_id": customer.customer_id,
        "profile": profile_payload(customer=customer, metadata=overview.metadata_masked),
        "active_trials": [trial_payload(trial=trial) for trial in overview.active_trials],
        "completed_trials": [trial_payload(trial=trial) for trial in overview.completed_trials],
        "agent_assignments": [
            assignment_payload(assignment=assignment) for assignment in overview.assignments
        ],
        "recent_activity": [interaction_payload(entry=entry) for entry in overview.recent_activity],
        "health_score": health_payload(health=overview.health),
        "health_trend": [
            {"taken_at": point.taken_at, "score": point.score, "status": point.status}
            for point in overview.health_trend.points
        ],
        "open_tickets": overview.open_tickets,
        "quick_stats": {
            "trials_total": overview.quick_stats.trials_total,
            "trials_active": overview.quick_stats.trials_active,
            "trials_completed": overview.quick_stats.trials_completed,
            "agents_used": overview.quick_stats.agents_used,
            "agent_names": overview.quick_stats.agent_names,
            "issues_reported": overview.quick_stats.issues_reported,
            "issues_open": overview.quick_stats.issues_open,
            "issues_resolved": overview.quick_stats.issues_resolved,
            "last_activity_at": overview.quick_stats.last_activity_at,
        },
    }


def timeline_payload(*, customer: Customer, page: TimelinePage) -> dict[str, Any]:
    return {
        "customer_id": customer.customer_id,
        "interactions": [interaction_payload(entry=entry) for entry in page.entries],
        "next_cursor": page.next_cursor,
    }


def profile_payload(*, customer: Customer, metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "company": customer.company,
        "metadata": metadata,
        "created_at": customer.created_at,
        "last_activity_at": customer.last_activity_at,
    }


def trial_payload(*, trial: Trial) -> dict[str, Any]:
    return {
        "trial_id": trial.trial_id,
        "plan": trial.plan,
        "status": trial.status,
        "progress": trial.progress_percent,
        "current_step": trial.current_step,
        "total_steps": trial.total_steps,
        "step_name": trial.step_name,
        "detail": trial.status_detail,
        "started_at": trial.started_at,
        "last_activity_at": trial.last_activity_at,
        "completed_at": trial.completed_at,
        "agents_involved": list(trial.agents_involved or []),
    }


def assignment_payload(*, assignment: AgentAssignment) -> dict[str, Any]:
    return {
        "agent_id": assignment.agent.name,
        "status": assignment.status,
        "platform_status": assignment.agent.status,
        "version": assignment.agent.version,
        "last_interaction": assignment.last_interaction_at,
        "total_interactions": assignment.interaction_count,
        "error_count": assignment.error_count,
        "timeout_count": assignment.timeout_count,
    }


def interaction_payload(*, entry: TimelineEntry) -> dict[str, Any]:
    interaction = entry.interaction
    failed = interaction.status != interaction.Status.SUCCESS
    return {
        "interaction_id": interaction.pk,
        "timestamp": interaction.started_at,
        "agent_id": interaction.agent.name,
        "operation": interaction.operation,
        "trial_id": interaction.trial.trial_id if interaction.trial else None,
        "workflow_step": interaction.workflow_step,
        "request": entry.request,
        "response": entry.response,
        "duration_ms": interaction.duration_ms,
        "status": interaction.status,
        "error": entry.error_message if failed else None,
        "error_type": interaction.error_type or None if failed else None,
        "retry_count": interaction.retry_count,
        "logs": entry.logs,
    }


def health_payload(*, health: HealthScore) -> dict[str, Any]:
    return {
        "score": health.score,
        "status": health.status,
        "factors": [
            {"name": factor.name, "impact": factor.impact, "detail": factor.detail}
            for factor in health.factors
        ],
    }
