"""Word index for fuzzy name and company search, and ordered prefix indexes, on PostgreSQL.

Trigram matching over a million names must recheck every row that shares a common trigram such
as " sm" and took seconds. Instead, each distinct word of names and companies is stored once in
customers_search_word, which a trigger on customers_customer keeps filled, and a GIN index on the
words of name and company answers "which customers contain these words". Search fuzzy-matches the
query's words against the small word table, then looks the matched words up in the GIN index.

Words are never removed from customers_search_word: a word no customer uses any more only costs
one row and finds nobody. Every operation here does nothing on SQLite.
"""

from django.db import migrations

CREATE_SQL = [
    """
    CREATE TABLE IF NOT EXISTS customers_search_word (
        word text PRIMARY KEY
    )
    """,
    "CREATE INDEX IF NOT EXISTS customer_search_word_trgm_idx"
    " ON customers_search_word USING gin (word gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_search_word_prefix_idx"
    " ON customers_search_word (word text_pattern_ops)",
    # The same expression search filters on, so that the planner uses this index.
    "CREATE INDEX IF NOT EXISTS customer_words_idx ON customers_customer USING gin"
    " (to_tsvector('simple'::regconfig, lower(name::text) || ' ' || lower(company::text)))",
    """
    CREATE OR REPLACE FUNCTION customers_search_words_collect() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO customers_search_word (word)
        SELECT lexeme
        FROM unnest(tsvector_to_array(to_tsvector(
            'simple'::regconfig, lower(NEW.name::text) || ' ' || lower(NEW.company::text)
        ))) AS lexeme
        WHERE length(lexeme) <= 64
        ON CONFLICT (word) DO NOTHING;
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS customers_search_words ON customers_customer",
    """
    CREATE TRIGGER customers_search_words
    AFTER INSERT OR UPDATE OF name, company ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION customers_search_words_collect()
    """,
    """
    INSERT INTO customers_search_word (word)
    SELECT DISTINCT lexeme
    FROM customers_customer,
        unnest(tsvector_to_array(to_tsvector(
            'simple'::regconfig, lower(name::text) || ' ' || lower(company::text)
        ))) AS lexeme
    WHERE length(lexeme) <= 64
    ON CONFLICT (word) DO NOTHING
    """,
    # Identifier prefix lookups filter with LIKE 'abc%' and order by the value. A "C" collation
    # btree serves both, where a text_pattern_ops index serves only the filter.
    "CREATE INDEX IF NOT EXISTS customer_id_lower_c_idx"
    ' ON customers_customer ((lower(customer_id::text) COLLATE "C"))',
    "CREATE INDEX IF NOT EXISTS trial_id_lower_c_idx"
    ' ON customers_trial ((lower(trial_id::text) COLLATE "C"))',
    "CREATE INDEX IF NOT EXISTS customer_email_normalized_c_idx"
    ' ON customers_customer ((email_normalized::text COLLATE "C"))',
    # The word search replaces whole-value trigram and prefix matching of names and companies,
    # and the "C" collation indexes replace the text_pattern_ops ones, so these only slowed ingest.
    "DROP INDEX IF EXISTS customer_name_trgm_idx",
    "DROP INDEX IF EXISTS customer_company_trgm_idx",
    "DROP INDEX IF EXISTS customer_name_lower_prefix_idx",
    "DROP INDEX IF EXISTS customer_company_lower_prefix_idx",
    "DROP INDEX IF EXISTS customer_id_lower_prefix_idx",
    "DROP INDEX IF EXISTS trial_id_lower_prefix_idx",
]

DROP_SQL = [
    "DROP TRIGGER IF EXISTS customers_search_words ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_search_words_collect()",
    "DROP INDEX IF EXISTS customer_words_idx",
    "DROP TABLE IF EXISTS customers_search_word",
    "DROP INDEX IF EXISTS customer_id_lower_c_idx",
    "DROP INDEX IF EXISTS trial_id_lower_c_idx",
    "DROP INDEX IF EXISTS customer_email_normalized_c_idx",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm_idx"
    " ON customers_customer USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_company_trgm_idx"
    " ON customers_customer USING gin (lower(company) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_name_lower_prefix_idx"
    " ON customers_customer (lower(name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS customer_company_lower_prefix_idx"
    " ON customers_customer (lower(company) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS customer_id_lower_prefix_idx"
    " ON customers_customer (lower(customer_id) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS trial_id_lower_prefix_idx"
    " ON customers_trial (lower(trial_id) text_pattern_ops)",
]


def create_search_words(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in CREATE_SQL:
        schema_editor.execute(statement)


def drop_search_words(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in DROP_SQL:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search_words, drop_search_words),
    ]
