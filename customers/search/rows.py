"""Summary rows for search hits: trial counts and health for every hit in a bounded set of queries.

Four queries whatever the number of hits: customers with trial counts, their active trials, their
agent assignments, and their recent interactions for the health score.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from customers.health import (
    ERROR_RATE_WINDOW,
    RECENT_INTERACTIONS_LIMIT,
    RecentInteraction,
    health_score_compute,
)
from customers.models import AgentAssignment, Customer, Trial
from customers.search.outcome import SearchHit
from telemetry.models import Interaction


@dataclass(frozen=True)
class SearchRow:
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


def search_rows_list(*, hits: list[SearchHit]) -> list[SearchRow]:
    """Summarize each hit's customer, in the order of the hits."""
    if not hits:
        return []

    now = timezone.now()
    customers = customers_with_trial_counts(pks=[hit.customer.pk for hit in hits])
    interactions = recent_interactions_by_customer(pks=list(customers), now=now)

    rows = []
    for hit in hits:
        customer = customers.get(hit.customer.pk)
        if customer is None:
            continue
        health = health_score_compute(
            trials=customer.active_trial_list,
            assignments=customer.assignment_list,
            recent_interactions=interactions.get(customer.pk, []),
            last_activity_at=customer.last_activity_at,
            now=now,
        )
        rows.append(search_row_build(hit=hit, customer=customer, health_status=health.status))
    return rows


def search_row_build(*, hit: SearchHit, customer: Customer, health_status: str) -> SearchRow:
    return SearchRow(
        customer_id=customer.customer_id,
        email=customer.email,
        name=customer.name,
        phone=customer.phone,
        company=customer.company,
        active_trials=customer.active_trials,
        completed_trials=customer.completed_trials,
        health_status=health_status,
        last_activity_at=customer.last_activity_at,
        # TODO: count open linked tickets once the tickets app stores ticket links.
        open_tickets=0,
        matched_field=hit.matched_field,
        matched_value=hit.matched_value,
        score=hit.score,
    )


def customers_with_trial_counts(*, pks: list[int]) -> dict[int, Customer]:
    customers = (
        Customer.objects.filter(pk__in=pks)
        .annotate(
            active_trials=Count("trials", filter=Q(trials__status__in=Trial.ACTIVE_STATUSES)),
            completed_trials=Count("trials", filter=Q(trials__status=Trial.Status.COMPLETED)),
        )
        .prefetch_related(
            Prefetch(
                "trials",
                queryset=Trial.objects.filter(status__in=Trial.ACTIVE_STATUSES),
                to_attr="active_trial_list",
            ),
            Prefetch(
                "assignments",
                queryset=AgentAssignment.objects.select_related("agent"),
                to_attr="assignment_list",
            ),
        )
    )
    return {customer.pk: customer for customer in customers}


def recent_interactions_by_customer(
    *, pks: list[int], now: datetime
) -> dict[int, list[RecentInteraction]]:
    """Load each customer's newest interactions of the error-rate window, newest first."""
    newest_first = [F("started_at").desc(), F("id").desc()]
    rows = (
        Interaction.objects.filter(customer_id__in=pks, started_at__gte=now - ERROR_RATE_WINDOW)
        .annotate(
            position=Window(RowNumber(), partition_by=[F("customer_id")], order_by=newest_first)
        )
        .filter(position__lte=RECENT_INTERACTIONS_LIMIT)
        .order_by("customer_id", *newest_first)
        .values_list("customer_id", "agent__name", "status", "started_at")
    )

    by_customer: dict[int, list[RecentInteraction]] = defaultdict(list)
    for customer_pk, agent_name, status, started_at in rows:
        by_customer[customer_pk].append(RecentInteraction(agent_name, status, started_at))
    return by_customer
