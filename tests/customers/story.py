"""The demo story's customer, built with factories for page and API tests."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from customers.models import Agent, Customer, Trial
from telemetry.models import Interaction
from tests.factories import (
    AgentAssignmentFactory,
    AgentFactory,
    CustomerFactory,
    InteractionFactory,
    LogRecordFactory,
    TrialFactory,
)


@dataclass
class Story:
    customer: Customer
    trial: Trial
    memory: Agent
    stored: Interaction
    timed_out: Interaction


def story_build() -> Story:
    """Build cust-123 with trial-wf-12345 stuck at step 7 after a WowMemory timeout."""
    now = timezone.now()
    customer = CustomerFactory(
        customer_id="cust-123",
        name="John Doe",
        email="john@example.com",
        phone="+1234567890",
        company="Acme Corp",
        metadata={"plan": "premium", "region": "eu-west-1"},
        last_activity_at=now - timedelta(minutes=10),
    )

    memory = AgentFactory(name="WowMemory")
    orchestrator = AgentFactory(name="WowOrchestrator")
    AgentAssignmentFactory(customer=customer, agent=memory, interaction_count=2, timeout_count=1)
    AgentAssignmentFactory(customer=customer, agent=orchestrator, interaction_count=1)

    trial = TrialFactory(
        trial_id="trial-wf-12345",
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=7,
        step_name="retrieve_context",
        status_detail="Database connection timeout after 30s",
        agents_involved=["WowMemory", "WowOrchestrator"],
        started_at=now - timedelta(minutes=20),
        last_activity_at=now - timedelta(minutes=10),
    )

    stored = InteractionFactory(
        customer=customer,
        agent=memory,
        operation="store_context",
        request_body='{"customer_id": "cust-123", "text": "Customer wants premium plan"}',
        response_body='{"status": "stored", "context_id": "ctx-456"}',
        duration_ms=85,
        started_at=now - timedelta(minutes=15),
    )
    InteractionFactory(
        customer=customer,
        agent=orchestrator,
        trial=trial,
        operation="start_trial_workflow",
        request_body='{"customer_id": "cust-123", "plan": "premium"}',
        response_body='{"workflow_id": "trial-wf-12345", "status": "started"}',
        duration_ms=120,
        started_at=now - timedelta(minutes=14),
    )
    timed_out = InteractionFactory(
        customer=customer,
        agent=memory,
        trial=trial,
        workflow_step=7,
        operation="retrieve_context",
        request_body='{"context_id": "ctx-456", "headers": {"Authorization": "Bearer s3cr3t"}}',
        response_body="",
        duration_ms=30002,
        status=Interaction.Status.TIMEOUT,
        error_type="TimeoutError",
        error_message="Database connection timeout after 30s",
        started_at=now - timedelta(minutes=10),
    )
    LogRecordFactory(interaction=timed_out, body="Connecting to database...")
    LogRecordFactory(
        interaction=timed_out,
        body="Connection timeout",
        severity_text="ERROR",
        timestamp=timed_out.started_at + timedelta(seconds=30),
    )
    return Story(customer=customer, trial=trial, memory=memory, stored=stored, timed_out=timed_out)
