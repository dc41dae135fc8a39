"""Plain-data views of active issues, shared by the JSON API and the dashboard widget."""

from django.urls import reverse

from diagnostics.models import ActiveIssue, ActiveIssueCustomer
from diagnostics.reasoning import kind_title
from diagnostics.selectors import (
    active_issues_open_count,
    active_issues_open_list,
    blocked_customers_describe,
    blocked_customers_query,
    covered_customer_ids,
)

# Issues and customers with blocked trials the dashboard lists, each; the badge counts all.
WIDGET_LIMIT = 50


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


def active_issues_widget(*, limit: int = WIDGET_LIMIT) -> dict:
    """Build the dashboard's active issues: scan issues, then blocked trials they miss.

    `issue_count` is the true total of both, and `shown_count` how many the widget lists, so
    the template can show when the list is cut off.
    """
    active_issues = [
        active_issue_describe(issue=issue) for issue in active_issues_open_list(limit=limit)
    ]
    covered = covered_customer_ids() if active_issues else set()
    blocked_query = blocked_customers_query(exclude_ids=covered)
    blocked = blocked_customers_describe(blocked_query[:limit])

    issue_total = active_issues_open_count() if len(active_issues) == limit else len(active_issues)
    blocked_total = blocked_query.count() if len(blocked) == limit else len(blocked)
    return {
        "active_issues": active_issues,
        "issues": blocked,
        "issue_count": issue_total + blocked_total,
        "shown_count": len(active_issues) + len(blocked),
        "all_issues_url": reverse("active-issues-page"),
    }
