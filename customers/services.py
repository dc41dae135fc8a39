"""Writes to customers, trials, agents and agent assignments, driven by platform ingest.

The platform is the source of truth for these rows, so every function here applies what the
platform reported. Telemetry ingest calls the bulk functions and PlatformStateBatch once per
batch, never per span or event.
"""

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db.models import Case, DateTimeField, F, IntegerField, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

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


def customer_profile_values(
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    company: str | None = None,
    metadata: dict | None = None,
) -> dict:
    """Return the profile fields to set on a customer, normalized. None means keep the field."""
    values = {"name": name, "email": email, "phone": phone, "company": company}
    values = {field: value.strip() for field, value in values.items() if value is not None}
    if metadata is not None:
        values["metadata"] = metadata
    if "email" in values:
        values["email_normalized"] = email_normalize(email=values["email"])
    if "phone" in values:
        values["phone_normalized"] = phone_normalize(phone=values["phone"])
    return values


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


class CustomerNotFound(ValueError):
    """A state event names a customer that has no row yet."""


class PlatformStateBatch:
    """The customers, trials, agents and agent instances that one batch of state events names.

    load() reads every row the batch names, one query per table. The *_apply methods change the
    rows in memory, in event order, so a later event reads what an earlier one changed. save()
    inserts the new rows and updates only the columns that changed, in bulk. A batch therefore
    costs a fixed number of queries whatever its size, and re-sending a state already stored
    writes nothing. The caller runs load, apply and save in one transaction.
    """

    def __init__(
        self,
        *,
        customers: dict[str, Customer],
        trials: dict[str, Trial],
        agents: dict[str, Agent],
        assignments: dict[tuple[str, str], AgentAssignment],
    ) -> None:
        self.customers = customers
        self.trials = trials
        self.agents = agents
        # Keyed by (customer id, agent name).
        self.assignments = assignments
        self.created: dict[type, list] = defaultdict(list)
        # Rows loaded from the database and changed since, by model and primary key, and the
        # columns changed on any of them.
        self.changed: dict[type, dict[int, object]] = defaultdict(dict)
        self.changed_fields: dict[type, set[str]] = defaultdict(set)

    @classmethod
    def load(
        cls,
        *,
        customer_ids: Iterable[str],
        trial_ids: Iterable[str],
        agent_names: Iterable[str],
        instances: Iterable[tuple[str, str]],
    ) -> "PlatformStateBatch":
        """Read the named rows, locking trials and agents because they are merged in Python.

        `instances` are the (customer id, agent name) pairs whose instance status changes.
        Trials are locked in their default order, as span ingest locks them, so that the two do
        not deadlock on trials.
        """
        customers = _by(Customer.objects.filter(customer_id__in=set(customer_ids)), "customer_id")
        trials = _by(
            Trial.objects.select_related("customer")
            .select_for_update(of=("self",))
            .filter(trial_id__in=set(trial_ids)),
            "trial_id",
        )
        agents = _by(
            Agent.objects.select_for_update().filter(name__in=set(agent_names)).order_by("pk"),
            "name",
        )
        return cls(
            customers=customers,
            trials=trials,
            agents=agents,
            assignments=_assignments_load(customers=customers, agents=agents, pairs=instances),
        )

    def customer_upsert(self, *, customer_id: str, values: Mapping) -> Customer:
        """Create or update a customer with values from customer_profile_values."""
        customer = self.customers.get(customer_id) or self._customer_add(customer_id)
        self._assign(customer, values)
        return customer

    def trial_progress_apply(
        self,
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

        A customer id not seen before creates a bare customer row, as spans do. step_started_at
        changes only when the step does, so the time spent in a step survives repeated progress
        events for that step. An event that occurred before the last one applied arrived out of
        order: it adds its agents and activity time but leaves the step and status alone.
        """
        customer = self.customers.get(customer_id) or self._customer_add(customer_id)
        trial = self.trials.get(trial_id)
        created = trial is None
        if trial is None:
            trial = self._trial_add(trial_id=trial_id, customer=customer, occurred_at=occurred_at)
        elif trial.customer.customer_id != customer_id:
            logger.warning(
                "Trial moved to another customer",
                extra={"trial_id": trial_id, "customer_id": customer_id},
            )

        new_agents = [name for name in agents if name not in trial.agents_involved]
        values = {
            "last_activity_at": max(trial.last_activity_at, occurred_at),
            "agents_involved": [*trial.agents_involved, *dict.fromkeys(new_agents)],
        }
        if trial.progress_at is not None and occurred_at < trial.progress_at:
            logger.info(
                "Trial progress out of order",
                extra={"trial_id": trial_id, "occurred_at": occurred_at.isoformat()},
            )
            self._assign(trial, values)
            return trial

        values |= {
            "customer": customer,
            "current_step": current_step,
            "status": status,
            "completed_at": occurred_at if status == Trial.Status.COMPLETED else None,
            "progress_at": occurred_at,
        }
        if created or trial.current_step != current_step:
            values["step_started_at"] = occurred_at
        optional = {
            "total_steps": total_steps,
            "step_name": step_name,
            "plan": plan,
            "status_detail": detail,
        }
        values.update({field: value for field, value in optional.items() if value is not None})
        self._assign(trial, values)
        return trial

    def agent_status_apply(
        self,
        *,
        agent_name: str,
        status: str,
        occurred_at: dt.datetime,
        version: str | None = None,
        customer_id: str | None = None,
    ) -> Agent | AgentAssignment:
        """Apply an agent.status event to the agent, or to one customer's instance of it.

        Raises CustomerNotFound for a customer that neither the database nor an earlier event of
        the batch created, and then changes nothing.
        """
        customer = None
        if customer_id is not None:
            customer = self.customers.get(customer_id)
            if customer is None:
                raise CustomerNotFound(
                    f"customer {customer_id} not found: send customer.upserted first."
                )
        agent = self.agents.get(agent_name) or self._agent_add(agent_name)
        if customer is not None:
            return self._instance_status_apply(agent=agent, customer=customer, status=status)

        values = {}
        if agent.status != status:
            values.update(status=status, status_changed_at=occurred_at)
        # The first version reported is not a deploy, so only a change from a known version counts.
        if version is not None and version != agent.version:
            values["version"] = version
            if agent.version:
                values["version_changed_at"] = occurred_at
        self._assign(agent, values)
        return agent

    def save(self) -> None:
        """Insert the new rows and update the changed columns, parents before children."""
        now = timezone.now()
        for model in (Customer, Agent, Trial, AgentAssignment):
            model.objects.bulk_create(self.created[model])
            changed = list(self.changed[model].values())
            if not changed:
                continue
            fields = sorted(self.changed_fields[model])
            if model in (Customer, Agent):
                # bulk_update() skips auto_now, so updated_at is set here.
                fields.append("updated_at")
                for row in changed:
                    row.updated_at = now
            model.objects.bulk_update(changed, fields)

        logger.info(
            "Platform state saved",
            extra={
                f"{model._meta.model_name}_{verb}": len(rows)
                for model in (Customer, Agent, Trial, AgentAssignment)
                for verb, rows in (
                    ("created", self.created[model]),
                    ("updated", self.changed[model]),
                )
            },
        )

    def _instance_status_apply(
        self, *, agent: Agent, customer: Customer, status: str
    ) -> AgentAssignment:
        # NOTE: AgentAssignment has no version column, so a customer-scoped event's version is
        # not stored.
        key = (customer.customer_id, agent.name)
        assignment = self.assignments.get(key)
        if assignment is None:
            assignment = AgentAssignment(customer=customer, agent=agent)
            self.assignments[key] = assignment
            self.created[AgentAssignment].append(assignment)
        self._assign(assignment, {"status": status})
        return assignment

    def _customer_add(self, customer_id: str) -> Customer:
        customer = Customer(customer_id=customer_id)
        self.customers[customer_id] = customer
        self.created[Customer].append(customer)
        return customer

    def _agent_add(self, name: str) -> Agent:
        agent = Agent(name=name)
        self.agents[name] = agent
        self.created[Agent].append(agent)
        return agent

    def _trial_add(self, *, trial_id: str, customer: Customer, occurred_at: dt.datetime) -> Trial:
        trial = Trial(
            trial_id=trial_id,
            customer=customer,
            started_at=occurred_at,
            last_activity_at=occurred_at,
            step_started_at=occurred_at,
        )
        self.trials[trial_id] = trial
        self.created[Trial].append(trial)
        return trial

    def _assign(self, row, values: Mapping) -> None:
        """Set the values that differ from the row's, and remember them for save().

        A row created in this batch is inserted with its final values, so only a loaded row is
        remembered for an update.
        """
        changed = [field for field, value in values.items() if getattr(row, field) != value]
        for field in changed:
            setattr(row, field, values[field])
        if changed and row.pk is not None:
            self.changed[type(row)][row.pk] = row
            self.changed_fields[type(row)].update(changed)


def _by(queryset, key: str) -> dict:
    return {getattr(row, key): row for row in queryset}


def _assignments_load(
    *,
    customers: Mapping[str, Customer],
    agents: Mapping[str, Agent],
    pairs: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], AgentAssignment]:
    """Load the stored instances among `pairs`, keyed by (customer id, agent name)."""
    pairs = {(c, a) for c, a in pairs if c in customers and a in agents}
    if not pairs:
        return {}

    customer_ids = {customers[c].pk: c for c, _ in pairs}
    agent_names = {agents[a].pk: a for _, a in pairs}
    rows = AgentAssignment.objects.filter(
        customer_id__in=customer_ids, agent_id__in=agent_names
    ).order_by("pk")
    return {(customer_ids[row.customer_id], agent_names[row.agent_id]): row for row in rows}


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
