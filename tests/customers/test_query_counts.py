"""Pages and endpoints load a customer in a fixed number of queries, whatever its size."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Trial
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
    """Create a customer with `size` trials, agents, interactions and log records each."""
    customer = CustomerFactory(customer_id=customer_id)
    now = timezone.now()
    for index in range(size):
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

    with django_assert_num_queries(AUTH_QUERIES + 7):
        response = operator_client.get("/customers/cust-sized/")

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_overview_region_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 7):
        response = operator_client.get(
            "/customers/cust-sized/", {"region": "agents"}, HTTP_HX_REQUEST="true"
        )

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_timeline_page_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 3):
        response = operator_client.get("/customers/cust-sized/timeline/")

    assert response.status_code == 200
    assert len(response.context["page"].entries) == min(size, 25)


@pytest.mark.parametrize("size", [1, 30])
def test_dashboard_query_count(operator_client, django_assert_num_queries, size):
    for index in range(size):
        customer_with(1, f"cust-{index}")
        TrialFactory(customer__customer_id=f"cust-{index}", status=Trial.Status.FAILED)
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 1):
        response = operator_client.get("/")

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 30])
def test_overview_api_query_count(operator_client, django_assert_num_queries, size):
    customer_with(size, "cust-sized")
    operator_client.get("/")

    with django_assert_num_queries(AUTH_QUERIES + 8):
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
