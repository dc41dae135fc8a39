"""Reads for the operator pages and the customer API: active issues, overview and timeline.

Every list selector loads its rows in a fixed number of queries, whatever the number of trials,
agents or interactions. Foreign keys shown on the page are joined with select_related. The
querysets also use FETCH_PEERS, so a relation a template reaches unplanned costs one query for the
whole list instead of one per row.
"""

import base64
import binascii
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import FETCH_PEERS, Case, Count, IntegerField, Prefetch, Q, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from actions.models import QuickAction
from customers.health import HealthScore, health_score_for
from customers.masking import body_parse_masked, mask_secrets, mask_text
from customers.models import Agent, AgentAssignment, Customer, Trial
from customers.trend import HealthTrend, health_trend_get
from diagnostics.models import Diagnosis
from telemetry.models import Interaction, LogRecord

logger = logging.getLogger(__name__)

ACTIVE_ISSUES_LIMIT = 50
OVERVIEW_TRIALS_LIMIT = 50
RECENT_ACTIVITY_LIMIT = 10
TIMELINE_DEFAULT_LIMIT = 50
TIMELINE_MAX_LIMIT = 200
TIMELINE_OPERATIONS_LIMIT = 200

# Duration bars use ten log-scale width buckets, so that 30 ms and 300 ms differ as clearly as
# 3 s and 30 s. Bucket 10 is DURATION_FULL_MS or more.
DURATION_BUCKETS = 10
DURATION_FULL_MS = 60_000
# Calls at least this slow get the "slow" colour on their duration bar.
DURATION_SLOW_MS = 5_000
# Diagnosis.kind of a diagnosis that found no fault; it reports no issue.
DIAGNOSIS_NO_FAULT_KIND = "none"


@dataclass(frozen=True)
class ActiveIssue:
    """A customer with stuck or failed trials, for the dashboard."""

    customer: Customer
    trials: list[Trial]

    @property
    def last_activity_at(self) -> datetime:
        return max(trial.last_activity_at for trial in self.trials)


def active_issues_list(*, limit: int = ACTIVE_ISSUES_LIMIT) -> list[ActiveIssue]:
    """List customers with stuck or failed trials, the most recently active first."""
    trials = (
        Trial.objects.filter(status__in=Trial.PROBLEM_STATUSES)
        .select_related("customer")
        .order_by("-last_activity_at", "-id")
        .fetch_mode(FETCH_PEERS)[:limit]
    )

    issues: dict[int, ActiveIssue] = {}
    for trial in trials:
        issue = issues.get(trial.customer_id)
        if issue is None:
            issue = issues[trial.customer_id] = ActiveIssue(customer=trial.customer, trials=[])
        issue.trials.append(trial)
    return list(issues.values())


def customer_get(*, customer_id: str) -> Customer:
    """Return the customer, or raise Http404 with a message that names the id."""
    customer = Customer.objects.filter(customer_id=customer_id).first()
    if customer is None:
        raise Http404(f"Customer '{customer_id}' not found. Search by id, email, phone or name.")
    return customer


# --- Timeline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One interaction prepared for display: bodies parsed when they are JSON, secrets masked."""

    interaction: Interaction
    request: Any
    request_is_json: bool
    response: Any
    response_is_json: bool

    @property
    def request_text(self) -> str:
        return body_display_text(value=self.request, is_json=self.request_is_json)

    @property
    def response_text(self) -> str:
        return body_display_text(value=self.response, is_json=self.response_is_json)

    @property
    def error_message(self) -> str:
        return mask_text(self.interaction.error_message)

    @property
    def logs(self) -> list[str]:
        """Masked log bodies, empty unless the selector prefetched the logs."""
        return [mask_text(record.body) for record in getattr(self.interaction, "log_list", [])]

    @property
    def duration_bucket(self) -> int:
        return duration_bucket(duration_ms=self.interaction.duration_ms)

    @property
    def is_slow(self) -> bool:
        return self.interaction.duration_ms >= DURATION_SLOW_MS


def duration_bucket(*, duration_ms: int) -> int:
    """Width bucket of a duration bar, 1 to DURATION_BUCKETS on a log scale up to a minute."""
    share = math.log10(max(duration_ms, 0) + 1) / math.log10(DURATION_FULL_MS + 1)
    return max(1, min(DURATION_BUCKETS, math.ceil(share * DURATION_BUCKETS)))


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    # Cursor of the page after this one, or None on the last page.
    next_cursor: str | None


def body_display_text(*, value: Any, is_json: bool) -> str:
    if not is_json:
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def timeline_entry_build(*, interaction: Interaction) -> TimelineEntry:
    request, request_is_json = body_parse_masked(interaction.request_body)
    response, response_is_json = body_parse_masked(interaction.response_body)
    return TimelineEntry(
        interaction=interaction,
        request=request,
        request_is_json=request_is_json,
        response=response,
        response_is_json=response_is_json,
    )


def cursor_encode(*, started_at: datetime, pk: int) -> str:
    raw = f"{started_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """Read a cursor made by cursor_encode. Raises ValueError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        started_text, pk_text = base64.urlsafe_b64decode(padded).decode().split("|")
        started_at = parse_datetime(started_text)
        pk = int(pk_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise ValueError(
            f"Invalid cursor '{cursor}': use next_cursor from a timeline page."
        ) from error
    if started_at is None or started_at.tzinfo is None:
        raise ValueError(f"Invalid cursor '{cursor}': use next_cursor from a timeline page.")
    return started_at, pk


def timeline_interactions_filter(
    *,
    customer: Customer,
    agent: str = "",
    operation: str = "",
    status: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Return the customer's interactions matching the timeline filters, unordered.

    operation matches any operation name that contains it, ignoring case, so that free text such
    as "context" finds both store_context and retrieve_context.
    """
    interactions = Interaction.objects.filter(customer=customer)
    if agent:
        interactions = interactions.filter(agent__name=agent)
    if operation:
        interactions = interactions.filter(operation__icontains=operation)
    if status:
        interactions = interactions.filter(status=status)
    if since is not None:
        interactions = interactions.filter(started_at__gte=since)
    if until is not None:
        interactions = interactions.filter(started_at__lt=until)
    return interactions


def timeline_page_get(
    *,
    customer: Customer,
    agent: str = "",
    operation: str = "",
    status: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str = "",
    limit: int = TIMELINE_DEFAULT_LIMIT,
    with_logs: bool = False,
) -> TimelinePage:
    """Return one page of the customer's interactions, newest first, ordered on (started_at, id).

    The cursor names the last interaction of the previous page, so that rows arriving while the
    operator pages do not shift or repeat entries. Raises ValueError for an invalid cursor.
    """
    limit = max(1, min(limit, TIMELINE_MAX_LIMIT))
    interactions = timeline_interactions_filter(
        customer=customer,
        agent=agent,
        operation=operation,
        status=status,
        since=since,
        until=until,
    )
    if cursor:
        started_at, pk = cursor_decode(cursor)
        interactions = interactions.filter(
            Q(started_at__lt=started_at) | Q(started_at=started_at, id__lt=pk)
        )

    interactions = (
        interactions.select_related("agent", "trial")
        .order_by("-started_at", "-id")
        .fetch_mode(FETCH_PEERS)
    )
    if with_logs:
        interactions = interactions.prefetch_related(
            Prefetch(
                "logs", queryset=LogRecord.objects.order_by("timestamp", "id"), to_attr="log_list"
            )
        )
    rows = list(interactions[: limit + 1])

    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursor_encode(started_at=rows[-1].started_at, pk=rows[-1].pk)
    entries = [timeline_entry_build(interaction=row) for row in rows]
    return TimelinePage(entries=entries, next_cursor=next_cursor)


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    severity: str
    # Log bodies are masked like request bodies, because agents log headers and payloads too.
    body: str


def interaction_logs_get(
    *, customer: Customer, interaction_pk: int
) -> tuple[Interaction, list[LogLine]]:
    """Return one of the customer's interactions with its log lines, oldest first.

    Raises Http404 when the interaction does not exist or belongs to another customer.
    """
    interaction = (
        Interaction.objects.filter(customer=customer, pk=interaction_pk)
        .select_related("agent")
        .first()
    )
    if interaction is None:
        raise Http404(
            f"Interaction {interaction_pk} not found for customer '{customer.customer_id}'."
        )
    records = interaction.logs.order_by("timestamp", "id")
    lines = [
        LogLine(
            timestamp=record.timestamp, severity=record.severity_text, body=mask_text(record.body)
        )
        for record in records
    ]
    return interaction, lines


def timeline_agent_names(*, customer: Customer) -> list[str]:
    """Names of every agent seen for the customer, for the timeline's agent filter.

    Agents come from the assignments and from the interactions themselves, because an interaction
    can name an agent whose assignment the platform never reported.
    """
    assigned = AgentAssignment.objects.filter(customer=customer).values("agent_id")
    interacted = Interaction.objects.filter(customer=customer).values("agent_id")
    agents = Agent.objects.filter(Q(pk__in=assigned) | Q(pk__in=interacted)).order_by("name")
    return list(agents.values_list("name", flat=True))


def timeline_operation_names(*, customer: Customer) -> list[str]:
    """Distinct operation names of the customer's interactions, for the operation filter's list.

    NOTE: the DISTINCT reads every interaction of the customer. It stays fast while customers
    have up to some hundred thousand interactions; beyond that a table of operation names kept
    by ingest would be needed.
    """
    operations = (
        Interaction.objects.filter(customer=customer)
        .order_by("operation")
        .values_list("operation", flat=True)
        .distinct()
    )
    return list(operations[:TIMELINE_OPERATIONS_LIMIT])


# --- Overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuickStats:
    trials_total: int
    trials_active: int
    trials_completed: int
    agents_used: int
    agent_names: list[str]
    # Issues are the Issue Detective's diagnoses that found a fault. Resolved ones have
    # resolved_at set; every other reported issue is open.
    issues_reported: int
    issues_open: int
    issues_resolved: int
    last_activity_at: datetime | None


@dataclass(frozen=True)
class CustomerOverview:
    customer: Customer
    active_trials: list[Trial]
    completed_trials: list[Trial]
    assignments: list[AgentAssignment]
    recent_activity: list[TimelineEntry]
    health: HealthScore
    health_trend: HealthTrend
    quick_stats: QuickStats
    open_tickets: int
    actions_in_progress: bool

    @property
    def metadata_masked(self) -> dict[str, Any]:
        """Profile metadata with secrets masked like request bodies."""
        metadata = mask_secrets(self.customer.metadata or {})
        return metadata if isinstance(metadata, dict) else {"metadata": metadata}

    @property
    def metadata_items(self) -> list[tuple[str, str]]:
        """Profile metadata as (key, text) pairs for display."""
        metadata = self.metadata_masked
        if not isinstance(metadata, dict):
            return [("metadata", json.dumps(metadata, ensure_ascii=False))]
        return [
            (str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for key, value in metadata.items()
        ]

    @property
    def refresh_needed(self) -> bool:
        """True while the page shows state that is about to change: a running trial or action."""
        running = any(trial.status == Trial.Status.RUNNING for trial in self.active_trials)
        return running or self.actions_in_progress


def customer_overview_get(*, customer_id: str, with_logs: bool = False) -> CustomerOverview:
    """Assemble the overview in a fixed number of queries. Raises Http404 for an unknown id.

    with_logs also loads the log lines of the recent interactions, for the API.
    """
    now = timezone.now()
    customer = customer_get(customer_id=customer_id)
    trials = overview_trials_list(customer=customer)
    counts = trial_counts_get(customer=customer)
    issues = issue_counts_get(customer=customer)
    assignments = list(
        customer.assignments.select_related("agent").order_by("agent__name").fetch_mode(FETCH_PEERS)
    )
    active_trials = [trial for trial in trials if trial.is_active]

    health = health_score_for(
        customer=customer, trials=active_trials, assignments=assignments, now=now
    )
    trend = health_trend_get(customer=customer, health=health, now=now)
    recent = timeline_page_get(customer=customer, limit=RECENT_ACTIVITY_LIMIT, with_logs=with_logs)
    quick_stats = QuickStats(
        trials_total=counts["total"],
        trials_active=counts["active"],
        trials_completed=counts["completed"],
        agents_used=len(assignments),
        agent_names=[assignment.agent.name for assignment in assignments],
        issues_reported=issues["reported"],
        issues_open=issues["reported"] - issues["resolved"],
        issues_resolved=issues["resolved"],
        last_activity_at=customer.last_activity_at,
    )

    return CustomerOverview(
        customer=customer,
        active_trials=active_trials,
        completed_trials=[trial for trial in trials if trial.status == Trial.Status.COMPLETED],
        assignments=assignments,
        recent_activity=recent.entries,
        health=health,
        health_trend=trend,
        quick_stats=quick_stats,
        # TODO: count open linked tickets once the tickets app stores ticket links.
        open_tickets=0,
        actions_in_progress=quick_actions_in_progress(customer=customer),
    )


def overview_trials_list(*, customer: Customer) -> list[Trial]:
    """Return the customer's trials, active ones first, then newest first, bounded."""
    active_first = Case(
        When(status__in=Trial.ACTIVE_STATUSES, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    trials = customer.trials.order_by(active_first, "-started_at", "-id").fetch_mode(FETCH_PEERS)
    return list(trials[:OVERVIEW_TRIALS_LIMIT])


def trial_counts_get(*, customer: Customer) -> dict[str, int]:
    return customer.trials.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status__in=Trial.ACTIVE_STATUSES)),
        completed=Count("id", filter=Q(status=Trial.Status.COMPLETED)),
    )


def issue_counts_get(*, customer: Customer) -> dict[str, int]:
    """Count the customer's reported and resolved issues in one aggregate query."""
    return (
        Diagnosis.objects.filter(customer=customer)
        .exclude(kind=DIAGNOSIS_NO_FAULT_KIND)
        .aggregate(
            reported=Count("id"),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
        )
    )


def quick_actions_in_progress(*, customer: Customer) -> bool:
    unfinished = QuickAction.objects.filter(customer=customer).exclude(
        status__in=QuickAction.FINISHED_STATUSES
    )
    return unfinished.exists()
