"""Customer search features that exist only on PostgreSQL: pg_trgm and the search indexes."""

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.search import customer_search
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SEARCH_INDEXES = {
    "customer_name_trgm_idx": "USING gin (lower((name)::text) gin_trgm_ops)",
    "customer_company_trgm_idx": "USING gin (lower((company)::text) gin_trgm_ops)",
    "customer_id_lower_prefix_idx": "USING btree (lower((customer_id)::text) text_pattern_ops)",
    "trial_id_lower_prefix_idx": "USING btree (lower((trial_id)::text) text_pattern_ops)",
    "customer_name_lower_prefix_idx": "USING btree (lower((name)::text) text_pattern_ops)",
    "customer_company_lower_prefix_idx": "USING btree (lower((company)::text) text_pattern_ops)",
}


def index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename IN ('customers_customer', 'customers_trial')"
        )
        return dict(cursor.fetchall())


def query_plan(sql: str, params) -> str:
    """EXPLAIN a query with sequential scans disabled, as on a table too large to scan."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def captured_search_sql(query: str) -> list[dict]:
    with CaptureQueriesContext(connection) as context:
        customer_search(query=query)
    return context.captured_queries


def test_migration_creates_search_indexes():
    definitions = index_definitions()

    for name, definition in SEARCH_INDEXES.items():
        assert name in definitions
        assert definitions[name].endswith(definition)


def test_trigram_extension_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)


def test_fuzzy_candidates_use_trigram_operators():
    CustomerFactory(customer_id="cust-1", name="John Doe")

    statements = [query["sql"] for query in captured_search_sql("jon doe")]

    assert len(statements) == 2
    assert " %% " not in statements[0]
    assert " % " in statements[0]
    assert " %> " in statements[0]


def test_name_candidates_use_trigram_index():
    CustomerFactory(customer_id="cust-1", name="John Doe")
    queryset = (
        Customer.objects.alias(name_key=Lower("name"))
        .filter(Q(name_key__trigram_similar="jon doe"))
        .values_list("pk")
    )
    sql, params = queryset.query.sql_with_params()

    plan = query_plan(sql, params)

    assert "customer_name_trgm_idx" in plan


def test_customer_id_prefix_uses_index():
    queryset = (
        Customer.objects.alias(key=Lower("customer_id"))
        .filter(key__startswith="cust-12")
        .order_by("key")
        .values_list("pk")[:50]
    )
    sql, params = queryset.query.sql_with_params()

    plan = query_plan(sql, params)

    assert "customer_id_lower_prefix_idx" in plan


def test_cyrillic_candidates_from_trigrams():
    CustomerFactory(customer_id="cust-ru", name="Иван Петров", company="Ромашка")

    outcome = customer_search(query="ИВАН ПЕТРОВ")

    assert [hit.customer.customer_id for hit in outcome.hits] == ["cust-ru"]
    assert outcome.hits[0].score == 100.0
