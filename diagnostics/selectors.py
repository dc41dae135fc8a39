"""Reads for the Issue Detective: past issues, related-issue ranking and the latest diagnosis."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Max, Prefetch, Q, QuerySet, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from rapidfuzz import fuzz

from actions.models import QuickAction
from customers.models import Agent, AgentAssignment, Customer, Trial
from diagnostics.catalog import NONE_KIND, RESTART_AGENT, RETRY_WORKFLOW
from diagnostics.detectors import failed_trial_max_age
from diagnostics.models import ActiveIssue, ActiveIssueCustomer, Diagnosis, ScanState
from diagnostics.reasoning import Conclusion
from diagnostics.recovery import RESTART_OPERATION
from diagnostics.text import message_template
from telemetry.models import Interaction

PAST_ISSUE_LIMIT = 200
SAME_KIND_LIMIT = 50
RELATED_LIMIT = 5
EVIDENCE_TEXT_LINES = 6
ACTIVE_ISSUE_LIMIT = 50
# Trials compared when checking whether a stored diagnosis is still current.
TRIAL_STATE_LIMIT = 200
# A restart span starts before the restart ends, so a span that started up to this long before
# a diagnosis may still have arrived after it.
RESTART_SPAN_LEAD = timedelta(minutes=10)
# Affected customers listed with each active issue; the count gives the rest.
AFFECTED_SHOWN = 5
MATCH_NAMES = {3: "fingerprint", 2: "component", 1: "kind", 0: "text"}
# Past issues with a different fingerprint are listed only from this text similarity up.
TEXT_SIMILARITY_MIN = 0.6


@dataclass(frozen=True)
class PastIssue:
    diagnosis_id: str
    customer_id: str
    kind: str
    component: str
    fingerprint: str
    text: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str


PAST_ISSUE_FIELDS = (
    "diagnosis_id",
    "customer__customer_id",
    "kind",
    "component",
    "fingerprint",
    "summary",
    "issue_description",
    "result__root_cause__evidence",
    "created_at",
    "resolved_at",
    "resolution",
)


def past_issues_list(*, since: datetime, kind: str = "", fingerprint: str = "") -> list[PastIssue]:
    """Return past diagnoses to compare with a new one, newest first, in two queries.

    The first query takes resolved diagnoses of the same kind however old, so that a busy day
    cannot push the best matches out; the second takes resolved diagnoses and every diagnosis
    since `since`, for text similarity and the count of similar issues.
    """
    same_kind = (
        Diagnosis.objects.filter(kind=kind, resolved_at__isnull=False)
        .order_by("-resolved_at")
        .values(*PAST_ISSUE_FIELDS)[:SAME_KIND_LIMIT]
        if kind and kind != NONE_KIND
        else []
    )
    recent = (
        Diagnosis.objects.filter(Q(resolved_at__isnull=False) | Q(created_at__gte=since))
        .exclude(kind=NONE_KIND)
        .order_by("-created_at")
        .values(*PAST_ISSUE_FIELDS)[:PAST_ISSUE_LIMIT]
    )
    rows = {row["diagnosis_id"]: row for row in [*same_kind, *recent]}
    issues = [past_issue_build(row=row) for row in rows.values()]
    return sorted(issues, key=lambda issue: issue.created_at, reverse=True)


def past_issue_build(*, row: dict) -> PastIssue:
    return PastIssue(
        diagnosis_id=row["diagnosis_id"],
        customer_id=row["customer__customer_id"],
        kind=row["kind"],
        component=row["component"],
        fingerprint=row["fingerprint"],
        text=similarity_text(
            kind=row["kind"],
            summary=row["summary"],
            fingerprint=row["fingerprint"],
            description=row["issue_description"],
            evidence=row["result__root_cause__evidence"] or [],
        ),
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
    )


def similarity_text(
    *, kind: str, summary: str, fingerprint: str, description: str, evidence: list[str]
) -> str:
    """Join what describes an issue, with ids and numbers masked so they do not count."""
    template = fingerprint.split("|", 2)[-1] if fingerprint else ""
    lines = [line for line in evidence[:EVIDENCE_TEXT_LINES] if isinstance(line, str)]
    parts = (kind, summary, template, description, *lines)
    return message_template(text=" ".join(part for part in parts if part))


def related_issues_rank(
    *, conclusion: Conclusion, issue_description: str, past: list[PastIssue]
) -> list[dict]:
    """Rank resolved past issues by fingerprint match first, then by text similarity.

    Fingerprint match: kind, component and error template all equal (similarity 1.0), then
    kind and component equal, then kind alone. Text similarity is rapidfuzz's token-set ratio
    of the kinds, summaries, templates, descriptions and evidence lines.
    """
    if conclusion.kind == NONE_KIND:
        return []

    text = similarity_text(
        kind=conclusion.kind,
        summary=conclusion.summary,
        fingerprint=conclusion.fingerprint,
        description=issue_description,
        evidence=conclusion.evidence,
    )
    scored = []
    for issue in past:
        if issue.resolved_at is None:
            continue
        match = fingerprint_match(conclusion=conclusion, issue=issue)
        similarity = 1.0 if match == 3 else round(fuzz.token_set_ratio(text, issue.text) / 100, 2)
        if match < 2 and similarity < TEXT_SIMILARITY_MIN:
            continue
        scored.append(((match, similarity, issue.resolved_at), issue, similarity, match))

    scored.sort(key=lambda item: item[0], reverse=True)
    return [
        {
            "issue_id": issue.diagnosis_id,
            "customer_id": issue.customer_id,
            "similarity": similarity,
            "resolved": True,
            "resolution": issue.resolution,
            "match": MATCH_NAMES[match],
        }
        for _rank, issue, similarity, match in scored[:RELATED_LIMIT]
    ]


def fingerprint_match(*, conclusion: Conclusion, issue: PastIssue) -> int:
    """Return 3 for the same fingerprint, 2 for the same kind and component, 1 for the kind."""
    if issue.fingerprint == conclusion.fingerprint:
        return 3
    if issue.kind != conclusion.kind:
        return 0
    return 2 if issue.component == conclusion.component else 1


def similar_issue_count(
    *, conclusion: Conclusion, customer_id: str, past: list[PastIssue], since: datetime
) -> int:
    """Count issues since `since` with the conclusion's fingerprint.

    Other customers count once each. The customer's own diagnoses count only when resolved, so
    that diagnosing one open problem again does not inflate the count.
    """
    matching = [
        issue
        for issue in past
        if issue.fingerprint == conclusion.fingerprint and issue.created_at >= since
    ]
    other_customers = {issue.customer_id for issue in matching if issue.customer_id != customer_id}
    own_resolved = [
        issue
        for issue in matching
        if issue.customer_id == customer_id and issue.resolved_at is not None
    ]
    return len(other_customers) + len(own_resolved)


def diagnosis_latest(*, customer: Customer, max_age: timedelta) -> Diagnosis | None:
    """Return the customer's newest diagnosis if it is younger than max_age."""
    return (
        Diagnosis.objects.filter(customer=customer, created_at__gte=timezone.now() - max_age)
        .order_by("-created_at")
        .first()
    )


def diagnosis_is_current(*, diagnosis: Diagnosis) -> bool:
    """Return whether no newer evidence has arrived since the diagnosis was made.

    Newer evidence is a quick action that finished, a trial or agent status that changed, or a
    restart the platform reported for the customer. A diagnosis stored without its evidence
    state is never current.
    """
    state = diagnosis.evidence_state or {}
    if "trials" not in state or "agents" not in state:
        return False
    made_at = diagnosis.created_at
    customer_id = diagnosis.customer_id

    if QuickAction.objects.filter(customer_id=customer_id, finished_at__gt=made_at).exists():
        return False
    if trials_changed(customer_id=customer_id, made_at=made_at, recorded=state["trials"]):
        return False
    if agents_changed(customer_id=customer_id, made_at=made_at, recorded=state["agents"]):
        return False
    return not restart_reported(customer_id=customer_id, made_at=made_at)


def trials_changed(*, customer_id: int, made_at: datetime, recorded: dict) -> bool:
    """Return whether a recorded trial changed status, or another one completed or got stuck."""
    rows = (
        Trial.objects.filter(customer_id=customer_id)
        .filter(
            Q(trial_id__in=list(recorded))
            | Q(completed_at__gt=made_at)
            | Q(status__in=Trial.PROBLEM_STATUSES, last_activity_at__gt=made_at)
        )
        .values_list("trial_id", "status")[:TRIAL_STATE_LIMIT]
    )
    return any(recorded.get(trial_id) != status for trial_id, status in rows)


def agents_changed(*, customer_id: int, made_at: datetime, recorded: dict) -> bool:
    """Return whether an agent's platform or customer status differs from the recorded one.

    A platform-wide status change after the diagnosis counts even when the status is back to
    what it was, as after a restart.
    """
    platform = dict(Agent.objects.filter(name__in=list(recorded)).values_list("name", "status"))
    if Agent.objects.filter(name__in=list(recorded), status_changed_at__gt=made_at).exists():
        return True
    own = dict(
        AgentAssignment.objects.filter(customer_id=customer_id).values_list("agent__name", "status")
    )
    for name, (platform_status, customer_status) in recorded.items():
        if platform.get(name, platform_status) != platform_status:
            return True
        if own.get(name) != customer_status:
            return True
    return False


def restart_reported(*, customer_id: int, made_at: datetime) -> bool:
    """Return whether a restart span of the customer's agents arrived after the diagnosis.

    A customer's instance reports RESTARTING then RUNNING without a time of change, so the
    restart span is what shows a restart that ended in the status the diagnosis saw.
    """
    return Interaction.objects.filter(
        customer_id=customer_id,
        operation=RESTART_OPERATION,
        started_at__gte=made_at - RESTART_SPAN_LEAD,
        received_at__gt=made_at,
    ).exists()


def quick_action_url(*, customer_id: str, step: dict) -> str | None:
    """Return the actions app's confirmation page for a step's quick action, or None."""
    kind = step.get("quick_action")
    params = step.get("params") or {}
    if kind == RESTART_AGENT:
        return confirmation_url(
            name="action-restart-confirm",
            path=f"/customers/{customer_id}/actions/restart-agent/",
            customer_id=customer_id,
            query={"agent": params.get("agent", "")},
        )
    if kind == RETRY_WORKFLOW:
        return confirmation_url(
            name="action-retry-confirm",
            path=f"/customers/{customer_id}/actions/retry-workflow/",
            customer_id=customer_id,
            query={
                "workflow_id": params.get("workflow_id", ""),
                "from_step": params.get("from_step", ""),
            },
        )
    return None


def confirmation_url(*, name: str, path: str, customer_id: str, query: dict) -> str:
    try:
        base = reverse(name, kwargs={"customer_id": customer_id})
    except NoReverseMatch:
        # TODO: drop this fallback once the actions app names its confirmation pages.
        base = path
    return f"{base}?{urlencode(query)}"


def diagnosis_for_panel(*, customer: Customer, max_age: timedelta) -> Diagnosis | None:
    """Return the diagnosis the panel shows: the newest one while young, else the scan's one.

    The scan keeps a diagnosis for every customer of an open active issue, so an operator who
    follows the issue finds it ready even when it is older than `max_age`. Either is shown only
    while no newer evidence has arrived (diagnosis_is_current).
    """
    recent = diagnosis_latest(customer=customer, max_age=max_age)
    if recent is not None:
        return recent if diagnosis_is_current(diagnosis=recent) else None
    link = (
        ActiveIssueCustomer.objects.filter(
            customer=customer,
            cleared_at__isnull=True,
            issue__status=ActiveIssue.Status.OPEN,
            diagnosis__isnull=False,
        )
        .select_related("diagnosis")
        .order_by("-diagnosis__created_at")
        .first()
    )
    if link is None or not diagnosis_is_current(diagnosis=link.diagnosis):
        return None
    return link.diagnosis


def customer_active_issues(*, customer: Customer) -> list[ActiveIssue]:
    """Return the open active issues that affect the customer, most severe first."""
    issues = ActiveIssue.objects.filter(
        status=ActiveIssue.Status.OPEN,
        affected__customer=customer,
        affected__cleared_at__isnull=True,
    )
    ranked = issues.annotate(severity_rank=severity_rank())
    return list(ranked.order_by("severity_rank", "-last_seen"))


def severity_rank() -> Case:
    return Case(
        *(
            When(severity=severity, then=Value(rank))
            for severity, rank in ActiveIssue.SEVERITY_ORDER.items()
        ),
        default=Value(len(ActiveIssue.SEVERITY_ORDER)),
        output_field=IntegerField(),
    )


def active_issues_open_list(
    *, limit: int = ACTIVE_ISSUE_LIMIT, customer_id: str | None = None
) -> list[ActiveIssue]:
    """List open active issues, most severe and most recent first, in two queries.

    Each issue carries `recent_affected`: its newest affected customers, at most
    AFFECTED_SHOWN, with the customer and the diagnosis joined.
    """
    return list(active_issues_open_query(customer_id=customer_id)[:limit])


def active_issues_open_query(*, customer_id: str | None = None) -> QuerySet[ActiveIssue]:
    """Return the query of active_issues_open_list, for slicing or paginating."""
    recent_affected = Prefetch(
        "affected",
        queryset=ActiveIssueCustomer.objects.filter(cleared_at__isnull=True)
        .select_related("customer", "diagnosis")
        .order_by("-last_seen", "-id")[:AFFECTED_SHOWN],
        to_attr="recent_affected",
    )
    issues = ActiveIssue.objects.filter(status=ActiveIssue.Status.OPEN)
    if customer_id:
        issues = issues.filter(
            affected__customer__customer_id=customer_id, affected__cleared_at__isnull=True
        )
    return (
        issues.annotate(severity_rank=severity_rank())
        .select_related("latest_diagnosis")
        .prefetch_related(recent_affected)
        .order_by("severity_rank", "-last_seen", "-id")
    )


def covered_customer_ids() -> set[int]:
    """Return ids of customers that an open issue from customers' evidence already lists.

    A platform issue lists every customer its agent serves, so it does not explain their
    blocked trials.
    """
    return set(
        ActiveIssueCustomer.objects.filter(
            issue__status=ActiveIssue.Status.OPEN,
            issue__source=ActiveIssue.Source.CUSTOMERS,
            cleared_at__isnull=True,
        ).values_list("customer_id", flat=True)
    )


def active_issues_open_count() -> int:
    return ActiveIssue.objects.filter(status=ActiveIssue.Status.OPEN).count()


@dataclass(frozen=True)
class BlockedCustomer:
    """A customer with stuck or recently failed trials, newest activity first."""

    customer: Customer
    trials: list[Trial]
    last_activity_at: datetime


def blocked_trial_filter(*, prefix: str = "") -> Q:
    """Match STUCK trials and FAILED ones younger than the failed-trial age.

    Older failures with no newer errors are history, as they are for the proactive scan.
    """
    since = timezone.now() - failed_trial_max_age()
    return Q(**{f"{prefix}status": Trial.Status.STUCK}) | Q(
        **{f"{prefix}status": Trial.Status.FAILED, f"{prefix}last_activity_at__gte": since}
    )


def blocked_customers_query(*, exclude_ids: set[int]) -> QuerySet[Customer]:
    """Return customers with blocked trials, except `exclude_ids`, most recently active first."""
    blocked = Trial.objects.filter(blocked_trial_filter()).values("customer_id")
    return (
        Customer.objects.filter(pk__in=blocked)
        .exclude(pk__in=exclude_ids)
        .annotate(
            blocked_activity_at=Max(
                "trials__last_activity_at", filter=blocked_trial_filter(prefix="trials__")
            )
        )
        .order_by("-blocked_activity_at", "-pk")
    )


def blocked_customers_describe(customers) -> list[BlockedCustomer]:
    """Return the customers with their blocked trials, in one more query."""
    customers = list(customers)
    trials: dict[int, list[Trial]] = {customer.pk: [] for customer in customers}
    rows = Trial.objects.filter(blocked_trial_filter(), customer_id__in=list(trials)).order_by(
        "-last_activity_at", "-id"
    )
    for trial in rows:
        trials[trial.customer_id].append(trial)
    return [
        BlockedCustomer(
            customer=customer,
            trials=trials[customer.pk],
            last_activity_at=customer.blocked_activity_at,
        )
        for customer in customers
    ]


def last_scan_finished_at() -> datetime | None:
    return (
        ScanState.objects.filter(name=ScanState.ACTIVE_ISSUES)
        .values_list("finished_at", flat=True)
        .first()
    )
