"""Indexes for customer search on PostgreSQL: pg_trgm GIN indexes and prefix indexes.

SQLite has neither pg_trgm nor operator classes, and search there scans or filters by LIKE, so
every operation here does nothing on SQLite. The indexes are built CONCURRENTLY so that adding
them to a large customer table does not block ingest.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# (index name, table, indexed expression with its operator class, access method)
SEARCH_INDEXES = [
    # Fuzzy name and company search: "<%" word similarity and LIKE '%...%'.
    ("customer_name_trgm_idx", "customers_customer", "lower(name) gin_trgm_ops", "gin"),
    ("customer_company_trgm_idx", "customers_customer", "lower(company) gin_trgm_ops", "gin"),
    # Case-insensitive equality and prefix matching (LIKE 'abc%') under any collation.
    (
        "customer_id_lower_prefix_idx",
        "customers_customer",
        "lower(customer_id) text_pattern_ops",
        "btree",
    ),
    ("trial_id_lower_prefix_idx", "customers_trial", "lower(trial_id) text_pattern_ops", "btree"),
    ("customer_name_lower_prefix_idx", "customers_customer", "lower(name) text_pattern_ops", "btree"),
    (
        "customer_company_lower_prefix_idx",
        "customers_customer",
        "lower(company) text_pattern_ops",
        "btree",
    ),
]


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, expression, method in SEARCH_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING {method} ({expression})"
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression, _method in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        # CreateExtension itself does nothing on databases other than PostgreSQL.
        TrigramExtension(),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
