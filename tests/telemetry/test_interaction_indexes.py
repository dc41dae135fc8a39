"""The covering index behind a customer's newest interactions."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.search.rows import recent_interactions_by_customer
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def interaction_indexes() -> dict:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "telemetry_interaction")
    return {name: spec for name, spec in constraints.items() if spec["index"]}


def test_customer_time_index_keys():
    index = interaction_indexes()["ix_customer_time_status"]

    assert index["columns"][:3] == ["customer_id", "started_at", "id"]
    assert index["orders"][:3] == ["ASC", "DESC", "DESC"]


def test_redundant_customer_index_dropped():
    assert "ix_customer_time" not in interaction_indexes()


@pytest.mark.postgres
def test_index_covers_agent_status():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["ix_customer_time_status"]
        )
        (definition,) = cursor.fetchone()

    assert definition.endswith(
        "USING btree (customer_id, started_at DESC, id DESC) INCLUDE (agent_id, status)"
    )


@pytest.mark.postgres
def test_recent_interactions_index_only():
    customer = CustomerFactory()
    now = timezone.now()
    for minutes in range(5):
        InteractionFactory(customer=customer, started_at=now - dt.timedelta(minutes=minutes))
    with CaptureQueriesContext(connection) as queries:
        recent_interactions_by_customer(pks=[customer.pk], now=now)
    (query,) = queries.captured_queries

    with connection.cursor() as cursor:
        # The table is tiny, so sequential and bitmap scans are turned off to see the index the
        # planner would use on a large table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (COSTS OFF) {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Only Scan using ix_customer_time_status on telemetry_interaction" in plan
