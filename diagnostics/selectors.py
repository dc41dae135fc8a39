"""Reads for the Issue Detective: past issues, related-issue ranking and the latest diagnosis."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from rapidfuzz import fuzz

from customers.models import Customer
from diagnostics.catalog import NONE_KIND, RESTART_AGENT, RETRY_WORKFLOW
from diagnostics.models import Diagnosis
from diagnostics.reasoning import Conclusion

PAST_ISSUE_LIMIT = 200
RELATED_LIMIT = 5
# Past issues with a different fingerprint are listed only from this text similarity up.
TEXT_SIMILARITY_MIN = 0.6


@dataclass(frozen=True)
class PastIssue:
    diagnosis_id: str
    customer_id: str
    kind: str
    fingerprint: str
    text: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str


def past_issues_list(*, since: datetime) -> list[PastIssue]:
    """Return resolved diagnoses and every diagnosis since `since`, newest first, in one query."""
    rows = (
        Diagnosis.objects.filter(Q(resolved_at__isnull=False) | Q(created_at__gte=since))
        .exclude(kind=NONE_KIND)
        .order_by("-created_at")
        .values(
            "diagnosis_id",
            "customer__customer_id",
            "kind",
            "fingerprint",
            "summary",
            "issue_description",
            "created_at",
            "resolved_at",
            "resolution",
        )[:PAST_ISSUE_LIMIT]
    )
    return [
        PastIssue(
            diagnosis_id=row["diagnosis_id"],
            customer_id=row["customer__customer_id"],
            kind=row["kind"],
            fingerprint=row["fingerprint"],
            text=similarity_text(
                kind=row["kind"],
                summary=row["summary"],
                fingerprint=row["fingerprint"],
                description=row["issue_description"],
            ),
            created_at=row["created_at"],
            resolved_at=row["resolved_at"],
            resolution=row["resolution"],
        )
        for row in rows
    ]


def similarity_text(*, kind: str, summary: str, fingerprint: str, description: str) -> str:
    template = fingerprint.split("|", 2)[-1] if fingerprint else ""
    return " ".join(part for part in (kind, summary, template, description) if part)


def related_issues_rank(
    *, conclusion: Conclusion, issue_description: str, past: list[PastIssue]
) -> list[dict]:
    """Rank resolved past issues: same fingerprint first, then same kind, then text similarity."""
    if conclusion.kind == NONE_KIND:
        return []

    text = similarity_text(
        kind=conclusion.kind,
        summary=conclusion.summary,
        fingerprint=conclusion.fingerprint,
        description=issue_description,
    )
    scored = []
    for issue in past:
        if issue.resolved_at is None:
            continue
        same_fingerprint = issue.fingerprint == conclusion.fingerprint
        similarity = (
            1.0 if same_fingerprint else round(fuzz.token_set_ratio(text, issue.text) / 100, 2)
        )
        if not same_fingerprint and similarity < TEXT_SIMILARITY_MIN:
            continue
        rank = (same_fingerprint, issue.kind == conclusion.kind, similarity, issue.resolved_at)
        scored.append((rank, issue, similarity))

    scored.sort(key=lambda item: item[0], reverse=True)
    return [
        {
            "issue_id": issue.diagnosis_id,
            "customer_id": issue.customer_id,
            "similarity": similarity,
            "resolved": True,
            "resolution": issue.resolution,
        }
        for _rank, issue, similarity in scored[:RELATED_LIMIT]
    ]


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
