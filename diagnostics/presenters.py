"""Plain-data views of active issues, shared by the JSON API and the dashboard widget."""

from django.urls import reverse

from diagnostics.models import ActiveIssue, ActiveIssueCustomer
from diagnostics.reasoning import kind_title


def customer_overview_url(*, customer_id: str) -> str:
    # The overview embeds the Issue Detective panel, which shows the scan's diagnosis.
    return reverse("customer-overview", kwargs={"customer_id": customer_id}) + "#diagnosis"


def affected_describe(*, link: ActiveIssueCustomer) -> dict:
    return {
        "customer_id": link.customer.customer_id,
        "name": link.customer.name,
        "url": customer_overview_url(customer_id=link.customer.customer_id),
        "first_seen": link.first_seen.isoformat(),
        "last_seen": link.last_seen.isoformat(),
        "occurrences": link.occurrences,
        "trial_ids": list(link.trial_ids),
        "diagnosis_id": link.diagnosis.diagnosis_id if link.diagnosis else None,
    }


def active_issue_describe(*, issue: ActiveIssue) -> dict:
    """Describe an issue listed by active_issues_open_list, which prefetches its customers."""
    affected = [affected_describe(link=link) for link in issue.recent_affected]
    return {
        "issue_id": issue.issue_id,
        "kind": issue.kind,
        "title": kind_title(code=issue.kind),
        "component": issue.component,
        "summary": issue.summary,
        "severity": issue.severity,
        "confidence": issue.confidence,
        "scope": "platform" if issue.is_platform_wide else "customer",
        "customer_id": affected[0]["customer_id"] if not issue.is_platform_wide else None,
        "customers_affected": issue.customers_affected,
        "trials_affected": issue.trials_affected,
        "occurrences": issue.occurrences,
        "first_seen": issue.first_seen.isoformat(),
        "last_seen": issue.last_seen.isoformat(),
        "diagnosis_id": affected[0]["diagnosis_id"] if affected else None,
        "url": affected[0]["url"] if affected else None,
        "affected_customers": affected,
        # For templates: the times as datetimes, and how many customers the list leaves out.
        "first_seen_at": issue.first_seen,
        "last_seen_at": issue.last_seen,
        "hidden_count": max(issue.customers_affected - len(affected), 0),
    }
