from datetime import UTC, datetime
from typing import Any, Literal

from ninja import Query, Router, Schema
from ninja.errors import HttpError

from customers import payloads, selectors, services
from customers.search import customer_search
from customers.search.rows import search_rows_list
from helpdesk.api_errors import ErrorOut, FieldError

router = Router()


# --- Customer search: GET /customers/search?q= -------------------------------------------------
# Registered before any "/{customer_id}" route so that "search" is never read as a customer id.


class CustomerSearchRow(Schema):
    customer_id: str
    email: str
    name: str
    phone: str
    company: str
    active_trials: int
    completed_trials: int
    health_status: str
    last_activity_at: datetime | None
    open_tickets: int
    matched_field: str
    matched_value: str
    score: float


class CustomerSearchResponse(Schema):
    customers: list[CustomerSearchRow]
    message: str | None


@router.get("search", response=CustomerSearchResponse, url_name="customer-search-api")
def customer_search_api(request, q: str = ""):
    """Find customers by id, email, phone, trial id, name or company, best match first."""
    outcome = customer_search(query=q)
    return {"customers": search_rows_list(hits=outcome.hits), "message": outcome.message}


# --- End of customer search ---------------------------------------------------------------------


# --- Customer overview and timeline: GET /customers/{customer_id}[/timeline] --------------------
# Declared after every fixed path such as "search", because "{customer_id}" matches any segment.


class ProfileOut(Schema):
    name: str
    email: str
    phone: str
    company: str
    metadata: dict[str, Any]
    created_at: datetime
    last_activity_at: datetime | None


class TrialOut(Schema):
    trial_id: str
    plan: str
    status: str
    progress: int
    current_step: int
    total_steps: int
    step_name: str
    detail: str
    started_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None
    agents_involved: list[str]


class AgentAssignmentOut(Schema):
    agent_id: str
    status: str
    platform_status: str
    version: str
    last_interaction: datetime | None
    total_interactions: int
    error_count: int
    timeout_count: int


class InteractionOut(Schema):
    interaction_id: int
    timestamp: datetime
    agent_id: str
    operation: str
    trial_id: str | None
    workflow_step: int | None
    request: Any
    response: Any
    duration_ms: int
    status: str
    error: str | None
    error_type: str | None
    retry_count: int
    logs: list[str]


class FactorOut(Schema):
    name: str
    impact: int
    detail: str


class HealthScoreOut(Schema):
    score: int
    status: str
    factors: list[FactorOut]


class QuickStatsOut(Schema):
    trials_total: int
    trials_active: int
    trials_completed: int
    agents_used: int
    agent_names: list[str]
    issues_reported: int
    issues_open: int
    issues_resolved: int
    last_activity_at: datetime | None


class HealthTrendPointOut(Schema):
    taken_at: datetime
    score: int
    status: str


class CustomerOverviewOut(Schema):
    customer_id: str
    profile: ProfileOut
    active_trials: list[TrialOut]
    completed_trials: list[TrialOut]
    agent_assignments: list[AgentAssignmentOut]
    recent_activity: list[InteractionOut]
    health_score: HealthScoreOut
    health_trend: list[HealthTrendPointOut]
    open_tickets: int
    quick_stats: QuickStatsOut


class TimelineOut(Schema):
    customer_id: str
    interactions: list[InteractionOut]
    next_cursor: str | None


@router.get(
    "/{customer_id}",
    response={200: CustomerOverviewOut, 404: ErrorOut},
    url_name="customer-overview-api",
)
def customer_overview_api(request, customer_id: str):
    """Profile, trials, agent assignments, recent activity and health score of one customer."""
    overview = selectors.customer_overview_get(customer_id=customer_id, with_logs=True)
    services.health_snapshot_record(
        customer=overview.customer, health=overview.health, trend=overview.health_trend
    )
    return payloads.overview_payload(overview=overview)


@router.get(
    "/{customer_id}/timeline",
    response={200: TimelineOut, 404: ErrorOut, 422: ErrorOut},
    url_name="customer-timeline-api",
)
def customer_timeline_api(
    request,
    customer_id: str,
    limit: int = Query(selectors.TIMELINE_DEFAULT_LIMIT, ge=1, le=selectors.TIMELINE_MAX_LIMIT),
    cursor: str = "",
    agent: str = "",
    operation: str = "",
    status: Literal["", "success", "failed", "timeout"] = "",
    since: datetime | None = None,
    until: datetime | None = None,
):
    """List the customer's interactions, newest first. Pass next_cursor as cursor for older ones.

    agent matches the agent name exactly, operation any operation name containing it (ignoring
    case), since is inclusive and until exclusive. Times without an offset are read as UTC.
    """
    since = utc_time_read(parameter="since", value=since)
    until = utc_time_read(parameter="until", value=until)
    customer = selectors.customer_get(customer_id=customer_id)
    try:
        page = selectors.timeline_page_get(
            customer=customer,
            agent=agent,
            operation=operation.strip(),
            status=status,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
            with_logs=True,
        )
    except ValueError as invalid:
        raise HttpError(422, str(invalid)) from invalid
    return payloads.timeline_payload(customer=customer, page=page)


def utc_time_read(*, parameter: str, value: datetime | None) -> datetime | None:
    """Convert a time parameter to UTC, the zone every stored time is in.

    A time without an offset is read as UTC. Raise FieldError (422) for a time whose UTC
    equivalent falls outside the years 1 to 9999, such as 9999-12-31T23:59:59-14:00.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)

    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        message = (
            f"{parameter} {value.isoformat()!r} cannot be converted to UTC: "
            "use a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z."
        )
        raise FieldError(422, field=parameter, message=message) from error


# --- End of customer overview and timeline ------------------------------------------------------
