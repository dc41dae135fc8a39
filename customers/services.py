"""Writes to customers, trials, agents and agent assignments, driven by platform ingest.

The platform is the source of truth for these rows, so every function here applies what the
platform reported. Telemetry ingest calls the bulk functions once per batch, never per span.
"""

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db.models import Case, DateTimeField, F, IntegerField, Value, When
from django.db.models.functions import Coalesce, Greatest

from customers.health import HealthScore
from customers.models import Agent, AgentAssignment, Customer, HealthSnapshot, Trial
from customers.trend import HealthTrend, hour_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssignmentActivity:
    """Interactions, errors and timeouts that one ingest batch adds to one assignment."""

    interactions: int
    errors: int
    timeouts: int
    last_interaction_at: dt.datetime


def email_normalize(*, email: str) -> str:
    """Lower-case and trim an email and drop a "+tag" from its local part."""
    email = email.strip().lower()
    local, separator, domain = email.partition("@")
    if not separator:
        return email
    local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def phone_normalize(*, phone: str, region: str | None = None) -> str:
    """Return the number in E.164 when it is a valid number, else its digits alone."""
    phone = phone.strip()
    if not phone:
        return ""

    try:
        number = phonenumbers.parse(phone, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return re.sub(r"\D", "", phone)


def customer_upsert(
    *,
    customer_id: str,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    company: str | None = None,
    metadata: dict | None = None,
) -> Customer:
    """Create or update a customer. A field passed as None keeps its stored value."""
    values = {"name": name, "email": email, "phone": phone, "company": company}
    values = {field: value.strip() for field, value in values.items() if value is not None}
    if metadata is not None:
        values["metadata"] = metadata
    if "email" in values:
        values["email_normalized"] = email_normalize(email=values["email"])
    if "phone" in values:
        values["phone_normalized"] = phone_normalize(phone=values["phone"])

    customer, created = Customer.objects.get_or_create(customer_id=customer_id, defaults=values)
    if not created and values:
        for field, value in values.items():
            setattr(customer, field, value)
        customer.save(update_fields=[*values, "updated_at"])

    logger.info(
        "Customer upserted", extra={"customer_id": customer_id, "customer_created": created}
    )
    return customer


def customers_ensure(*, customer_ids: Iterable[str]) -> dict[str, Customer]:
    """Return customers by customer id, creating a bare row for each id not yet known.

    Spans can arrive before the platform's upsert event, which later fills in the profile.
    """
    requested = set(customer_ids)
    if not requested:
        return {}

    found = {c.customer_id: c for c in Customer.objects.filter(customer_id__in=requested)}
    missing = requested - found.keys()
    if missing:
        Customer.objects.bulk_create(
            [Customer(customer_id=customer_id) for customer_id in missing], ignore_conflicts=True
        )
        logger.info("Customers created from telemetry", extra={"customer_ids": sorted(missing)})
        found.update({c.customer_id: c for c in Customer.objects.filter(customer_id__in=missing)})
    return found


def agents_ensure(*, names: Iterable[str]) -> dict[str, Agent]:
    """Return agents by name, creating a row with unknown status for each new name."""
    requested = set(names)
    if not requested:
        return {}

    found = {agent.name: agent for agent in Agent.objects.filter(name__in=requested)}
    missing = requested - found.keys()
    if missing:
        Agent.objects.bulk_create([Agent(name=name) for name in missing], ignore_conflicts=True)
        logger.info("Agents created from telemetry", extra={"agents": sorted(missing)})
        found.update({agent.name: agent for agent in Agent.objects.filter(name__in=missing)})
    return found


def _latest_case(*, field: str, key: str, values: Mapping[int, dt.datetime]) -> Case:
    """Build a CASE that moves a timestamp column forward to each row's new value, never back."""
    whens = []
    for key_value, moment in values.items():
        new = Value(moment, output_field=DateTimeField())
        whens.append(When(**{key: key_value}, then=Greatest(Coalesce(F(field), new), new)))
    return Case(*whens, default=F(field), output_field=DateTimeField())


def _increment_case(*, field: str, values: Mapping[int, int]) -> Case:
    whens = [When(pk=pk, then=F(field) + Value(amount)) for pk, amount in values.items()]
    return Case(*whens, default=F(field), output_field=IntegerField())


def customers_touch(*, last_activity: Mapping[int, dt.datetime]) -> None:
    """Move Customer.last_activity_at forward, by customer primary key, in one query."""
    if not last_activity:
        return
    Customer.objects.filter(pk__in=last_activity).update(
        last_activity_at=_latest_case(field="last_activity_at", key="pk", values=last_activity)
    )


def assignments_record_activity(*, activity: Mapping[tuple[int, int], AssignmentActivity]) -> None:
    """Add a batch's interactions to the (customer pk, agent pk) assignments' counters.

    Counters change through F() expressions so that concurrent batches add up instead of
    overwriting each other. The query count does not grow with the number of pairs.
    """
    if not activity:
        return

    AgentAssignment.objects.bulk_create(
        [AgentAssignment(customer_id=customer, agent_id=agent) for customer, agent in activity],
        ignore_conflicts=True,
    )
    customer_ids = {customer for customer, _ in activity}
    agent_ids = {agent for _, agent in activity}
    pk_by_pair = {
        (customer, agent): pk
        for pk, customer, agent in AgentAssignment.objects.filter(
            customer_id__in=customer_ids, agent_id__in=agent_ids
        ).values_list("pk", "customer_id", "agent_id")
    }

    by_pk = {pk_by_pair[pair]: counts for pair, counts in activity.items()}
    AgentAssignment.objects.filter(pk__in=by_pk).update(
        interaction_count=_increment_case(
            field="interaction_count", values={pk: c.interactions for pk, c in by_pk.items()}
        ),
        error_count=_increment_case(
            field="error_count", values={pk: c.errors for pk, c in by_pk.items()}
        ),
        timeout_count=_increment_case(
            field="timeout_count", values={pk: c.timeouts for pk, c in by_pk.items()}
        ),
        last_interaction_at=_latest_case(
            field="last_interaction_at",
            key="pk",
            values={pk: c.last_interaction_at for pk, c in by_pk.items()},
        ),
    )


def trials_record_activity(
    *,
    trials: Iterable[Trial],
    agents: Mapping[int, set[str]],
    last_activity: Mapping[int, dt.datetime],
) -> None:
    """Add agent names to Trial.agents_involved and move Trial.last_activity_at forward.

    The caller passes trials it loaded with select_for_update, because agents_involved is a
    list merged in Python and a concurrent batch must not drop names.
    """
    changed = []
    for trial in trials:
        names = [
            name for name in sorted(agents.get(trial.pk, ())) if name not in trial.agents_involved
        ]
        moment = last_activity.get(trial.pk)
        later = moment is not None and moment > trial.last_activity_at
        if not names and not later:
            continue
        trial.agents_involved = [*trial.agents_involved, *names]
        if later:
            trial.last_activity_at = moment
        changed.append(trial)

    if changed:
        Trial.objects.bulk_update(changed, ["agents_involved", "last_activity_at"])


def trial_progress_apply(
    *,
    trial_id: str,
    customer_id: str,
    status: str,
    current_step: int,
    occurred_at: dt.datetime,
    total_steps: int | None = None,
    step_name: str | None = None,
    plan: str | None = None,
    detail: str | None = None,
    agents: Iterable[str] = (),
) -> Trial:
    """Apply a trial.progress event: create the trial if new, then set its step and status.

    step_started_at changes only when the step does, so the time spent in a step survives
    repeated progress events for that step.
    """
    customer = customers_ensure(customer_ids=[customer_id])[customer_id]
    trial, created = Trial.objects.select_for_update().get_or_create(
        trial_id=trial_id,
        defaults={
            "customer": customer,
            "current_step": current_step,
            "started_at": occurred_at,
            "last_activity_at": occurred_at,
            "step_started_at": occurred_at,
        },
    )

    if trial.customer_id != customer.pk:
        logger.warning(
            "Trial moved to another customer",
            extra={"trial_id": trial_id, "customer_id": customer_id},
        )
        trial.customer = customer
    if created or trial.current_step != current_step:
        trial.step_started_at = occurred_at
    trial.current_step = current_step
    trial.status = status
    trial.last_activity_at = max(trial.last_activity_at, occurred_at)
    trial.completed_at = occurred_at if status == Trial.Status.COMPLETED else None
    if total_steps is not None:
        trial.total_steps = total_steps
    if step_name is not None:
        trial.step_name = step_name
    if plan is not None:
        trial.plan = plan
    if detail is not None:
        trial.status_detail = detail
    new_agents = [name for name in agents if name not in trial.agents_involved]
    trial.agents_involved = [*trial.agents_involved, *dict.fromkeys(new_agents)]
    trial.save()

    logger.info(
        "Trial progress applied",
        extra={"trial_id": trial_id, "status": status, "current_step": current_step},
    )
    return trial


def agent_status_apply(
    *,
    agent_name: str,
    status: str,
    occurred_at: dt.datetime,
    version: str | None = None,
    customer_id: str | None = None,
) -> Agent | AgentAssignment:
    """Apply an agent.status event to the agent, or to one customer's instance of it."""
    agent = agents_ensure(names=[agent_name])[agent_name]
    if customer_id is not None:
        return _assignment_status_apply(agent=agent, customer_id=customer_id, status=status)

    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if agent.status != status:
        agent.status = status
        agent.status_changed_at = occurred_at
    # The first version reported is not a deploy, so only a change from a known version counts.
    if version is not None and version != agent.version:
        if agent.version:
            agent.version_changed_at = occurred_at
        agent.version = version
    agent.save(
        update_fields=["status", "status_changed_at", "version", "version_changed_at", "updated_at"]
    )

    logger.info("Agent status applied", extra={"agent": agent_name, "status": status})
    return agent


def _assignment_status_apply(*, agent: Agent, customer_id: str, status: str) -> AgentAssignment:
    # NOTE: AgentAssignment has no version column, so a customer-scoped event's version is not
    # stored.
    customer = customers_ensure(customer_ids=[customer_id])[customer_id]
    assignment, _ = AgentAssignment.objects.get_or_create(customer=customer, agent=agent)
    assignment.status = status
    assignment.save(update_fields=["status"])

    logger.info(
        "Agent instance status applied",
        extra={"agent": agent.name, "customer_id": customer_id, "status": status},
    )
    return assignment


def health_snapshot_record(*, customer: Customer, health: HealthScore, trend: HealthTrend) -> bool:
    """Store the current score as a snapshot when the newest one is an hour old or missing.

    The caller has just computed health and loaded trend, so a call that is not due costs no
    query. Two processes recording in the same hour store one row, because (customer, hour) is
    unique. Returns True when a row was inserted or found in that hour already.
    """
    if not trend.snapshot_due:
        return False

    taken_at = trend.now
    HealthSnapshot.objects.bulk_create(
        [
            HealthSnapshot(
                customer=customer,
                taken_at=taken_at,
                hour=hour_of(taken_at),
                score=health.score,
                status=health.status,
            )
        ],
        ignore_conflicts=True,
    )
    logger.info(
        "Health snapshot recorded",
        extra={"customer_id": customer.customer_id, "score": health.score},
    )
    return True
