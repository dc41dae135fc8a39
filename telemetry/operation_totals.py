"""Call totals per agent operation for the Issue Detective, read from the hourly rollup.

See telemetry.operation_hours for how the rollup is kept.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Collate

from customers.models import Agent, Customer
from customers.trend import hour_of
from telemetry.models import Interaction, OperationHour
from telemetry.operation_hours import (
    PROBLEM_STATUSES,
    earliest,
    hour_ceil,
    latest,
    operation_hours_claim,
)

logger = logging.getLogger(__name__)


@dataclass
class OperationTotals:
    """Call counts of one agent operation since a time, with the recent window kept apart.

    Successful calls are split into the recent window and the baseline before it, with the sum
    of their durations, so that totals from several sources add up to exact means.
    """

    agent: str
    operation: str
    calls: int = 0
    failures: int = 0
    timeouts: int = 0
    max_retries: int = 0
    first_problem_at: dt.datetime | None = None
    last_problem_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    recent_calls: int = 0
    recent_failures: int = 0
    recent_timeouts: int = 0
    recent_successes: int = 0
    recent_success_ms: int = 0
    baseline_successes: int = 0
    baseline_success_ms: int = 0

    def add(self, other: "OperationTotals") -> None:
        for name in (
            "calls",
            "failures",
            "timeouts",
            "recent_calls",
            "recent_failures",
            "recent_timeouts",
            "recent_successes",
            "recent_success_ms",
            "baseline_successes",
            "baseline_success_ms",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_retries = max(self.max_retries, other.max_retries)
        self.first_problem_at = earliest(self.first_problem_at, other.first_problem_at)
        self.last_problem_at = latest(self.last_problem_at, other.last_problem_at)
        self.last_success_at = latest(self.last_success_at, other.last_success_at)

    @property
    def recent_success_avg_ms(self) -> float | None:
        return self.recent_success_ms / self.recent_successes if self.recent_successes else None

    @property
    def baseline_success_avg_ms(self) -> float | None:
        if not self.baseline_successes:
            return None
        return self.baseline_success_ms / self.baseline_successes


def operation_totals_list(
    *, customer: Customer, since: dt.datetime, recent_since: dt.datetime, limit: int
) -> list[OperationTotals]:
    """Return the customer's call totals per agent operation since `since`, in three queries.

    Whole hours from `since` to the hour that contains `recent_since` come from the rollup.
    Calls of those hours that are not in it yet are added first, which costs an UPDATE and an
    upsert in a transaction. The rest comes from raw rows. The list is ordered by agent and
    operation and cut to `limit`.
    """
    start, end = rolled_up_hours(since=since, recent_since=recent_since)
    if not rollup_claim(customer=customer, start=start, end=end):
        # Without the rollup, the raw rows of the whole lookback give the same totals.
        start = end
    totals = rollup_totals(customer=customer, start=start, end=end, limit=limit)
    totals += raw_totals(
        customer=customer,
        since=since,
        recent_since=recent_since,
        skipped=(start, end),
        limit=limit,
    )

    # Each query returns its first `limit` keys in the order used below, so every key among the
    # first `limit` of the merged list arrives with all of its parts.
    merged: dict[tuple[str, str], OperationTotals] = {}
    for item in totals:
        key = (item.agent, item.operation)
        if key in merged:
            merged[key].add(item)
        else:
            merged[key] = item
    return [merged[key] for key in sorted(merged)][:limit]


def code_point_order(*fields: str) -> list[Collate]:
    """Order text by code point, as Python sorts it, whatever the database's collation.

    The queries cut their keys at a limit before the merge, so they must agree with Python's
    sorted() on which keys come first. Under a linguistic collation such as en-US, "B000" sorts
    after "a199" in SQL but before it in Python.
    """
    collation = "C" if connection.vendor == "postgresql" else "BINARY"
    return [Collate(F(field), collation) for field in fields]


def rolled_up_hours(
    *, since: dt.datetime, recent_since: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Return the whole hours [start, end) after `since` that end by `recent_since`."""
    start = hour_ceil(since)
    return start, max(start, hour_of(recent_since))


def rollup_claim(*, customer: Customer, start: dt.datetime, end: dt.datetime) -> bool:
    """Add the calls of the hours [start, end) that are not in the rollup yet.

    Returns False when adding them failed, so that the caller reads those hours raw.
    """
    # Ordered by the partial index's key, so that PostgreSQL reads that index. With exists(),
    # statistics that counted many unclaimed calls, all of them in the partial hours, led it to
    # scan the whole table.
    first_unclaimed = (
        Interaction.objects.filter(
            customer=customer, rolled_up=False, started_at__gte=start, started_at__lt=end
        )
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if first_unclaimed is None:
        return True

    try:
        operation_hours_claim(customer=customer, start=start, end=end)
    except DatabaseError:
        logger.warning(
            "Adding calls to operation hours failed. Reading the raw calls instead",
            extra={"customer_id": customer.customer_id},
            exc_info=True,
        )
        return False
    return True


def agent_name() -> Subquery:
    # The agent's name is looked up once per group rather than joined to every row.
    return Subquery(Agent.objects.filter(pk=OuterRef("agent_id")).values("name")[:1])


def rollup_totals(
    *, customer: Customer, start: dt.datetime, end: dt.datetime, limit: int
) -> list[OperationTotals]:
    rows = (
        OperationHour.objects.filter(customer=customer, hour__gte=start, hour__lt=end)
        .values("agent_id", "operation")
        .annotate(
            calls=Sum("calls"),
            failures=Sum("failures"),
            timeouts=Sum("timeouts"),
            successes=Sum("successes"),
            success_duration_ms=Sum("success_duration_ms"),
            max_retries=Max("max_retries"),
            first_problem_at=Min("first_problem_at"),
            last_problem_at=Max("last_problem_at"),
            last_success_at=Max("last_success_at"),
        )
        .annotate(agent_name=agent_name())
        .order_by(*code_point_order("agent_name", "operation"))[:limit]
    )
    return [rollup_row_totals(row=row) for row in rows]


def rollup_row_totals(*, row: dict) -> OperationTotals:
    """Return the totals of a rollup row, all of whose calls precede the recent window."""
    return OperationTotals(
        agent=row["agent_name"],
        operation=row["operation"],
        calls=row["calls"],
        failures=row["failures"],
        timeouts=row["timeouts"],
        max_retries=row["max_retries"] or 0,
        first_problem_at=row["first_problem_at"],
        last_problem_at=row["last_problem_at"],
        last_success_at=row["last_success_at"],
        baseline_successes=row["successes"],
        baseline_success_ms=row["success_duration_ms"] or 0,
    )


def raw_totals(
    *,
    customer: Customer,
    since: dt.datetime,
    recent_since: dt.datetime,
    skipped: tuple[dt.datetime, dt.datetime],
    limit: int,
) -> list[OperationTotals]:
    """Aggregate the raw calls since `since` outside the rolled-up hours `skipped`."""
    start, end = skipped
    recent = Q(started_at__gte=recent_since)
    success = Q(status=Interaction.Status.SUCCESS)
    # Each branch names the customer, so that SQLite reads two index ranges (a multi-index OR)
    # rather than the whole day's range.
    rows = (
        Interaction.objects.filter(
            Q(customer=customer, started_at__gte=since, started_at__lt=start)
            | Q(customer=customer, started_at__gte=end)
        )
        .values("agent_id", "operation")
        .annotate(
            **call_aggregates(),
            recent_calls=Count("id", filter=recent),
            recent_failures=Count("id", filter=recent & Q(status=Interaction.Status.FAILED)),
            recent_timeouts=Count("id", filter=recent & Q(status=Interaction.Status.TIMEOUT)),
            recent_successes=Count("id", filter=recent & success),
            recent_success_ms=Sum("duration_ms", filter=recent & success),
            baseline_successes=Count("id", filter=~recent & success),
            baseline_success_ms=Sum("duration_ms", filter=~recent & success),
        )
        .annotate(agent_name=agent_name())
        .order_by(*code_point_order("agent_name", "operation"))[:limit]
    )
    return [
        OperationTotals(
            agent=row["agent_name"],
            operation=row["operation"],
            calls=row["calls"],
            failures=row["failures"],
            timeouts=row["timeouts"],
            max_retries=row["max_retries"] or 0,
            first_problem_at=row["first_problem_at"],
            last_problem_at=row["last_problem_at"],
            last_success_at=row["last_success_at"],
            recent_calls=row["recent_calls"],
            recent_failures=row["recent_failures"],
            recent_timeouts=row["recent_timeouts"],
            recent_successes=row["recent_successes"],
            recent_success_ms=row["recent_success_ms"] or 0,
            baseline_successes=row["baseline_successes"],
            baseline_success_ms=row["baseline_success_ms"] or 0,
        )
        for row in rows
    ]


def call_aggregates() -> dict:
    """Return the aggregates of a group of raw calls that match the rollup's counts."""
    problem = Q(status__in=PROBLEM_STATUSES)
    success = Q(status=Interaction.Status.SUCCESS)
    return {
        "calls": Count("id"),
        "failures": Count("id", filter=Q(status=Interaction.Status.FAILED)),
        "timeouts": Count("id", filter=Q(status=Interaction.Status.TIMEOUT)),
        "max_retries": Max("retry_count"),
        "first_problem_at": Min("started_at", filter=problem),
        "last_problem_at": Max("started_at", filter=problem),
        "last_success_at": Max("started_at", filter=success),
    }
