"""Customer search features that exist only on PostgreSQL: the word index and prefix indexes."""

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate, Lower
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.search import customer_search
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SEARCH_INDEXES = {
    "customer_words_idx": (
        "USING gin (to_tsvector('simple'::regconfig, ((lower((name)::text) || ' '::text)"
        " || lower((company)::text))))"
    ),
    "customer_search_word_trgm_idx": "USING gin (word gin_trgm_ops)",
    "customer_search_word_prefix_idx": "USING btree (word text_pattern_ops)",
    "customer_id_lower_c_idx": 'USING btree (lower((customer_id)::text) COLLATE "C")',
    "trial_id_lower_c_idx": 'USING btree (lower((trial_id)::text) COLLATE "C")',
    "customer_email_normalized_c_idx": 'USING btree (((email_normalized)::text) COLLATE "C")',
}


def index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename IN ('customers_customer', 'customers_trial', 'customers_search_word')"
        )
        return dict(cursor.fetchall())


def search_words() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM customers_search_word")
        return {row[0] for row in cursor.fetchall()}


def query_plan(sql: str, params) -> str:
    """EXPLAIN a query with sequential scans disabled, as on a table too large to scan."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_migration_creates_search_indexes():
    definitions = index_definitions()

    for name, definition in SEARCH_INDEXES.items():
        assert name in definitions
        assert definitions[name].endswith(definition)


def test_trigram_extension_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == ("pg_trgm",)


def test_trigger_stores_name_and_company_words():
    customer = CustomerFactory(customer_id="cust-1", name="Jean-Luc Picard", company="Starfleet")

    customer.company = "Enterprise Ltd"
    customer.save(update_fields=["company"])

    assert {"jean", "luc", "picard", "starfleet", "enterprise", "ltd"} <= search_words()


def test_fuzzy_search_uses_word_index():
    CustomerFactory(customer_id="cust-1", name="John Doe")

    with CaptureQueriesContext(connection) as context:
        outcome = customer_search(query="jon doe")
    statements = [query["sql"] for query in context.captured_queries]

    assert [hit.customer.customer_id for hit in outcome.hits] == ["cust-1"]
    assert len(statements) == 3
    assert "FROM customers_search_word" in statements[0]
    assert "word % 'jon'" in statements[0]
    assert "@@ '('" in statements[1]


def test_word_lookup_uses_gin_index():
    CustomerFactory(customer_id="cust-1", name="John Doe")
    sql = (
        "SELECT id FROM customers_customer WHERE to_tsvector('simple'::regconfig,"
        " lower(name::text) || ' ' || lower(company::text)) @@ %s::tsquery"
    )

    plan = query_plan(sql, ["'john' & 'doe'"])

    assert "customer_words_idx" in plan


def test_customer_id_prefix_scan_is_ordered():
    queryset = (
        Customer.objects.alias(key=Collate(Lower("customer_id"), "C"))
        .filter(key__startswith="cust-12")
        .order_by("key")
        .values_list("pk")[:50]
    )
    sql, params = queryset.query.sql_with_params()

    plan = query_plan(sql, params)

    assert "customer_id_lower_c_idx" in plan
    assert "Sort" not in plan


def test_email_prefix_scan_is_ordered():
    queryset = (
        Customer.objects.alias(key=Collate(F("email_normalized"), "C"))
        .filter(key__startswith="john@")
        .order_by("key")
        .values_list("pk")[:50]
    )
    sql, params = queryset.query.sql_with_params()

    plan = query_plan(sql, params)

    assert "customer_email_normalized_c_idx" in plan
    assert "Sort" not in plan


def test_cyrillic_words_match_case_insensitively():
    CustomerFactory(customer_id="cust-ru", name="Иван Петров", company="Ромашка")

    outcome = customer_search(query="ИВАН ПЕТРОВ")

    assert [hit.customer.customer_id for hit in outcome.hits] == ["cust-ru"]
    assert outcome.hits[0].score == 100.0


def test_single_letter_word_not_required():
    CustomerFactory(customer_id="cust-123", name="John Doe", company="Acme Corp")
    CustomerFactory(customer_id="cust-77", name="Bob Brown", company="Beta Labs")

    outcome = customer_search(query="<b>John</b> Doe")

    assert [hit.customer.customer_id for hit in outcome.hits] == ["cust-123"]
