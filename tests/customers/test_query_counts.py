"""Pages and endpoints load a customer in a fixed number of queries, whatever its size."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import HealthSnapshot, Trial
from customers.trend import hour_of
from diagnostics.models import Diagnosis
from tests.factories import (
    AgentAssignmentFactory,
    AgentFactory,
    CustomerFactory,
    InteractionFactory,
    LogRecordFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db

# Session and user lookups that every logged-in request makes before the view runs.
AUTH_QUERIES = 2


def customer_with(size: int, customer_id: str) -> None:
    """Create a customer with `size` trials, agents, interactions, log records, health snapshots
    and diagnoses each. The newest snapshot is two hours old, so every overview stores one."""
    customer = CustomerFactory(customer_id=customer_id)
    now = timezone.now()
    for index in range(size):
        taken_at = now - timedelta(hours=2 + index)
        HealthSnapshot.objects.create(
            customer=customer,
            taken_at=taken_at,
            hour=hour_of(taken_at),
            score=70,
            status="degraded",
        )
        Diagnosis.objects.create(
            customer=customer,
            kind="pool_exhausted" if index % 2 else "none",
            summary="Pool exhausted",
            confidence=0.9,
            resolved_at=now if index % 4 == 1 else None,
        )
        agent = AgentFactory(name=f"{customer_id}-agent-{index}")
        AgentAssignmentFactory(customer=customer, agent=agent, error_count=1)
        status = Trial.Status.STUCK if index % 2 else Trial.Status.COMPLETED
        trial = TrialFactory(customer=customer, status=status, agents_involved=[agent.name])
        interaction = InteractionFactory(
            customer=customer,
            agent=agent,
            trial=trial,
            status="failed" if index % 3 == 0 else "success",
            started_at=now - timedelta(seconds=index),
        )
        LogRecordFactory(interaction=interaction)


@pytest.mark.parametrize("size", [1, 30])
def test_overview_page_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    # Customer, trials, trial counts, issue counts, assignments, quick actions, recent
    # interactions, health evidence, health snapshots, and the insert of the new snapshot.
    with django_assert_num_queries(AUTH_QUERIES + 10):
        response = operator_client.get("/customers/cust-sized/")

    assert response.status_code == 200
    assert len(response.context["overview"].health_trend.points) == size + 1


@pytest.mark.parametrize("size", [1, 30])
def test_overview_region_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 10):
        response = operator_client.get(
            "/customers/cust-sized/", {"region": "agents"}, HTTP_HX_REQUEST="true"
        )

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_timeline_page_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    # Customer, agent names, interactions and operation names.
    with django_assert_num_queries(AUTH_QUERIES + 4):
        response = operator_client.get("/customers/cust-sized/timeline/")

    assert response.status_code == 200
    assert len(response.context["page"].entries) == min(size, 25)


@pytest.mark.parametrize("size", [1, 30])
def test_filtered_timeline_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")
    filters = {"agent": "cust-sized-agent-0", "operation": "context", "range": "7d"}

    with django_assert_num_queries(AUTH_QUERIES + 4):
        response = operator_client.get("/customers/cust-sized/timeline/", filters)

    assert response.status_code == 200
    assert len(response.context["page"].entries) == 1


@pytest.mark.parametrize("size", [1, 30])
def test_timeline_export_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    # Customer, agent names, then the streamed interactions and their log records.
    with django_assert_num_queries(AUTH_QUERIES + 4):
        response = operator_client.get("/customers/cust-sized/timeline/export.json")
        content = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert content.count(b'"interaction_id"') == size


@pytest.mark.parametrize("size", [1, 30])
def test_dashboard_query_count(operator_client, django_assert_num_queries, size):
    for index in range(size):
        customer_with(1, f"cust-{index}")
        TrialFactory(customer__customer_id=f"cust-{index}", status=Trial.Status.FAILED)
    operator_client.get("/")

    # Open active issues (none here, so nothing to prefetch), the customers with blocked
    # trials, and their trials.
    with django_assert_num_queries(AUTH_QUERIES + 3):
        response = operator_client.get("/")

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_overview_api_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 11):
        response = operator_client.get("/api/platform/helpdesk/customers/cust-sized")

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_timeline_api_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 3):
        response = operator_client.get("/api/platform/helpdesk/customers/cust-sized/timeline")

    assert response.status_code == 200
    assert len(response.json()["interactions"]) == size
