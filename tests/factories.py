"""factory-boy factories for the models every app's tests build on.

Defaults follow the demo story: customers at Acme Corp, fifteen-step trials and agents named like
the platform's (WowMemory, WowCache, ...). Times default to now, so rows fall inside recent time
windows. Pass explicit times where a test depends on age.
"""

import json
import secrets

import factory
from django.utils import timezone

from customers.models import Agent, AgentAssignment, Customer, Trial
from telemetry.models import Interaction, LogRecord


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("customer_id",)

    customer_id = factory.Sequence(lambda number: f"cust-{1000 + number}")
    name = factory.Sequence(lambda number: f"Customer {number}")
    email = factory.LazyAttribute(lambda customer: f"{customer.customer_id}@example.com")
    email_normalized = factory.LazyAttribute(lambda customer: customer.email.lower())
    phone = factory.Sequence(lambda number: f"+1555{number:07d}")
    phone_normalized = factory.LazyAttribute(lambda customer: customer.phone)
    company = "Acme Corp"
    metadata = factory.LazyFunction(dict)
    last_activity_at = factory.LazyFunction(timezone.now)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda number: f"WowAgent{number}")
    status = Agent.Status.RUNNING
    version = "0.4.2"


class AgentAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentAssignment

    customer = factory.SubFactory(CustomerFactory)
    agent = factory.SubFactory(AgentFactory)
    status = Agent.Status.RUNNING
    last_interaction_at = factory.LazyFunction(timezone.now)
    interaction_count = 0
    error_count = 0
    timeout_count = 0


class TrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trial

    trial_id = factory.Sequence(lambda number: f"trial-wf-{20000 + number}")
    customer = factory.SubFactory(CustomerFactory)
    plan = "premium"
    status = Trial.Status.RUNNING
    current_step = 1
    total_steps = 15
    step_name = "start"
    agents_involved = factory.LazyFunction(list)
    started_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyAttribute(lambda trial: trial.started_at)
    step_started_at = factory.LazyAttribute(lambda trial: trial.last_activity_at)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    agent = factory.SubFactory(AgentFactory)
    trial = None
    operation = "store_context"
    service_name = factory.LazyAttribute(lambda interaction: interaction.agent.name)
    request_body = factory.LazyAttribute(
        lambda interaction: (
            json.dumps({"customer_id": interaction.customer.customer_id})
            if interaction.customer
            else "{}"
        )
    )
    response_body = '{"status": "stored"}'
    started_at = factory.LazyFunction(timezone.now)
    duration_ms = 85
    status = Interaction.Status.SUCCESS
    trace_id = factory.LazyFunction(lambda: secrets.token_hex(16))
    span_id = factory.LazyFunction(lambda: secrets.token_hex(8))


class LogRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LogRecord

    interaction = factory.SubFactory(InteractionFactory)
    customer = factory.LazyAttribute(
        lambda record: record.interaction.customer if record.interaction else None
    )
    service_name = factory.LazyAttribute(
        lambda record: record.interaction.service_name if record.interaction else ""
    )
    timestamp = factory.LazyAttribute(
        lambda record: record.interaction.started_at if record.interaction else timezone.now()
    )
    severity_number = 9
    severity_text = "INFO"
    body = "Connected to Redis"
    trace_id = factory.LazyAttribute(
        lambda record: record.interaction.trace_id if record.interaction else ""
    )
    span_id = factory.LazyAttribute(
        lambda record: record.interaction.span_id if record.interaction else ""
    )


class QuickActionFactory(factory.django.DjangoModelFactory):
    """A restart of WowMemory; pass requested_by, because there is no shared user factory."""

    class Meta:
        model = "actions.QuickAction"

    customer = factory.SubFactory(CustomerFactory)
    kind = "restart_agent"
    params = factory.LazyFunction(lambda: {"agent": "WowMemory"})
    reason = "Resolving timeout issue"
