"""Evidence scenarios for the Issue Detective, built on the shared factories."""

from datetime import timedelta

import factory
from django.utils import timezone

from customers.models import Agent, Trial
from diagnostics.models import Diagnosis
from telemetry.models import Alert, Interaction, LogTemplate, MetricSample
from tests.factories import (
    AgentAssignmentFactory,
    AgentFactory,
    CustomerFactory,
    InteractionFactory,
    LogRecordFactory,
    QuickActionFactory,
    TrialFactory,
)

STORY_AGENTS = ("WowMemory", "WowOrchestrator", "WowCache", "WowDomain", "WowAPI")
DATABASE_TIMEOUT = "Database connection timeout after 30s"


class DiagnosisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diagnosis

    customer = factory.SubFactory(CustomerFactory)
    kind = "db_pool_exhaustion"
    component = "WowMemory"
    summary = "Database connection timeout in WowMemory"
    confidence = 0.9
    fingerprint = "db_pool_exhaustion|WowMemory|Database connection timeout after <*>s"
    result = factory.LazyFunction(dict)


def agents_build() -> dict[str, Agent]:
    return {name: AgentFactory(name=name) for name in STORY_AGENTS}


def story_build(*, customer_id: str = "cust-123", trial_id: str = "trial-wf-12345"):
    """Build the demo story: trial stuck at step 7 while WowMemory's database calls time out."""
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory(
        customer_id=customer_id, name="John Doe", email="john@example.com", phone="+1234567890"
    )
    for name in ("WowMemory", "WowOrchestrator"):
        AgentAssignmentFactory(customer=customer, agent=agents[name])
    trial = TrialFactory(
        trial_id=trial_id,
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=7,
        step_name="initialize_agent_context",
        started_at=now - timedelta(minutes=22),
        last_activity_at=now - timedelta(minutes=2),
        step_started_at=now - timedelta(minutes=12),
        agents_involved=["WowMemory", "WowOrchestrator"],
    )
    InteractionFactory(
        customer=customer,
        agent=agents["WowMemory"],
        operation="store_context",
        started_at=now - timedelta(minutes=21),
    )
    InteractionFactory(
        customer=customer,
        agent=agents["WowOrchestrator"],
        operation="start_trial_workflow",
        trial=trial,
        workflow_step=1,
        started_at=now - timedelta(minutes=21),
    )
    InteractionFactory(
        customer=customer,
        agent=agents["WowMemory"],
        operation="retrieve_context",
        trial=trial,
        workflow_step=6,
        started_at=now - timedelta(minutes=13),
    )
    for minutes in (11, 7, 3):
        failed_call_build(
            customer=customer,
            agent=agents["WowMemory"],
            trial=trial,
            step=7,
            operation="retrieve_context",
            message=DATABASE_TIMEOUT,
            started_at=now - timedelta(minutes=minutes),
            status=Interaction.Status.TIMEOUT,
            log_body="Connection timeout after 30s",
        )
    return customer


def failed_call_build(
    *,
    customer,
    agent,
    message: str,
    started_at,
    trial=None,
    step=None,
    operation: str = "retrieve_context",
    status: str = Interaction.Status.FAILED,
    log_body: str = "",
    retry_count: int = 0,
):
    interaction = InteractionFactory(
        customer=customer,
        agent=agent,
        trial=trial,
        workflow_step=step,
        operation=operation,
        started_at=started_at,
        status=status,
        duration_ms=30002 if status == Interaction.Status.TIMEOUT else 120,
        error_type="timeout" if status == Interaction.Status.TIMEOUT else "AgentError",
        error_message=message,
        response_body="",
        retry_count=retry_count,
    )
    if log_body:
        LogRecordFactory(interaction=interaction, body="Connecting to database...")
        LogRecordFactory(
            interaction=interaction,
            body=log_body,
            severity_number=17,
            severity_text="ERROR",
            timestamp=started_at + timedelta(seconds=30),
        )
    return interaction


def healthy_build(*, customer_id: str = "cust-healthy"):
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory(customer_id=customer_id)
    AgentAssignmentFactory(customer=customer, agent=agents["WowMemory"])
    trial = TrialFactory(
        customer=customer,
        status=Trial.Status.RUNNING,
        current_step=3,
        started_at=now - timedelta(minutes=6),
        last_activity_at=now - timedelta(minutes=1),
        step_started_at=now - timedelta(minutes=1),
    )
    for minutes in (5, 3, 1):
        InteractionFactory(
            customer=customer,
            agent=agents["WowMemory"],
            trial=trial,
            workflow_step=3,
            started_at=now - timedelta(minutes=minutes),
        )
    return customer


def metric_sample_build(
    *,
    name: str,
    agent,
    value: float,
    timestamp,
    customer=None,
    attributes: dict | None = None,
    series: str = "",
):
    attributes = attributes or {}
    return MetricSample.objects.create(
        name=name,
        kind=MetricSample.Kind.GAUGE,
        agent=agent,
        customer=customer,
        attributes=attributes,
        series=series or f"{name}-{agent.name}-{sorted(attributes.items())}"[:32],
        timestamp=timestamp,
        value=value,
    )


def pool_samples_build(*, agent, used: float, size: float = 100, timestamp=None):
    """Store a pool's connections in use and its size, as OpenTelemetry names them."""
    timestamp = timestamp or timezone.now() - timedelta(minutes=1)
    pool = {"db.client.connection.pool.name": f"{agent.name.lower()}-primary"}
    metric_sample_build(
        name="db.client.connection.max",
        agent=agent,
        value=size,
        timestamp=timestamp,
        attributes=pool,
        series=f"max-{agent.name}",
    )
    return metric_sample_build(
        name="db.client.connection.count",
        agent=agent,
        value=used,
        timestamp=timestamp,
        attributes={**pool, "db.client.connection.state": "used"},
        series=f"used-{agent.name}",
    )


def alert_build(*, name: str, agent=None, customer=None, summary: str = "", severity="critical"):
    return Alert.objects.create(
        fingerprint=f"fp-{name}-{Alert.objects.count()}",
        name=name,
        status=Alert.Status.FIRING,
        severity=severity,
        summary=summary,
        labels={"alertname": name},
        starts_at=timezone.now() - timedelta(minutes=5),
        agent=agent,
        customer=customer,
    )


def template_logs_build(*, customer, agent_name: str, template: str, body: str, times: list):
    """Store warning records of one mined template at the given times."""
    now = timezone.now()
    log_template = LogTemplate.objects.filter(template=template).first()
    if log_template is None:
        log_template = LogTemplate.objects.create(
            cluster_id=LogTemplate.objects.count() + 1,
            template=template,
            first_seen=min(times),
            last_seen=now,
        )
    for moment in times:
        LogRecordFactory(
            interaction=None,
            customer=customer,
            service_name=agent_name,
            body=body,
            severity_number=17,
            severity_text="ERROR",
            timestamp=moment,
            template=log_template,
        )
    return log_template


def story_recover(*, customer, operator, restart_via_action: bool = True):
    """Recover the demo story: restart WowMemory, retry from step 7, let the trial complete.

    The restart comes 2 minutes ago, after the last timeout 3 minutes ago, as a quick action
    with the platform's restart span; the retry follows, then successful calls and completion.
    """
    now = timezone.now()
    memory = Agent.objects.get(name="WowMemory")
    trial = customer.trials.get(trial_id="trial-wf-12345")
    if restart_via_action:
        QuickActionFactory(
            customer=customer,
            requested_by=operator,
            status="succeeded",
            finished_at=now - timedelta(minutes=2),
        )
    InteractionFactory(
        customer=customer,
        agent=memory,
        operation="restart_agent",
        started_at=now - timedelta(minutes=2, seconds=1),
        response_body='{"status": "RUNNING"}',
    )
    QuickActionFactory(
        customer=customer,
        requested_by=operator,
        kind="retry_workflow",
        params={"workflow_id": trial.trial_id, "from_step": 7},
        status="succeeded",
        finished_at=now - timedelta(seconds=100),
    )
    for seconds in (90, 60):
        InteractionFactory(
            customer=customer,
            agent=memory,
            trial=trial,
            workflow_step=7,
            operation="retrieve_context",
            started_at=now - timedelta(seconds=seconds),
        )
    Trial.objects.filter(pk=trial.pk).update(
        status=Trial.Status.COMPLETED,
        current_step=15,
        last_activity_at=now - timedelta(seconds=30),
        completed_at=now - timedelta(seconds=30),
        status_detail="",
    )
    return trial
