"""The benchmark's data set generator, run at a tiny scale on the test database."""

import pytest
from django.db import connection
from django.db.models import Count

from bench.generate import (
    DATASET_TABLE,
    LOADED_MODELS,
    dataset_generate,
    dataset_marker_get,
    tables_reset,
)
from bench.plan import DEMO_CUSTOMER_ID, DEMO_TRIAL_ID, Sizes
from bench.schema import stash_is_empty
from customers.models import AgentAssignment, Customer, Trial
from customers.services import email_normalize, phone_normalize
from telemetry.models import Interaction

pytestmark = pytest.mark.postgres

# 500 customers, 1,500 trials and 5,000 interactions.
TINY_SCALE = 0.0005

INDEX_NAMES_SQL = """
SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1
"""
CONSTRAINT_NAMES_SQL = """
SELECT conname FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1
"""


def schema_names() -> tuple[list[str], list[str]]:
    tables = [model._meta.db_table for model in LOADED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(INDEX_NAMES_SQL, [tables])
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(CONSTRAINT_NAMES_SQL, [tables])
        constraints = [row[0] for row in cursor.fetchall()]
    return indexes, constraints


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """Generate once for the module, committed so that VACUUM runs, and empty the tables after."""
    with django_db_blocker.unblock():
        schema_before = schema_names()
        lines: list[str] = []
        report = dataset_generate(scale=TINY_SCALE, migrate=False, output=lines.append)
        yield {"report": report, "lines": lines, "schema_before": schema_before}
        tables_reset()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {DATASET_TABLE}")  # noqa: S608


def sql_value(query: str):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def test_generate_writes_scaled_counts(generated, db):
    sizes = Sizes.from_scale(scale=TINY_SCALE)

    assert Customer.objects.count() == sizes.customers
    assert Trial.objects.count() == sizes.trials
    assert Interaction.objects.count() == sizes.interactions
    assert generated["report"].assignments == AgentAssignment.objects.count()


def test_generate_prints_each_phase(generated, db):
    phases = generated["report"].phases

    for name in ("copy interactions", "copy customers", "rebuild indexes and constraints"):
        assert name in phases
        assert any(line.startswith(f"{name}: ") for line in generated["lines"])


def test_assignment_counters_match_interactions(generated, db):
    mismatches = sql_value(
        """
        SELECT count(*) FROM (
          (SELECT customer_id, agent_id, interaction_count, error_count, timeout_count,
                  last_interaction_at FROM customers_agentassignment
           EXCEPT
           SELECT customer_id, agent_id, count(*), count(*) FILTER (WHERE status <> 'success'),
                  count(*) FILTER (WHERE status = 'timeout'), max(started_at)
           FROM telemetry_interaction GROUP BY customer_id, agent_id)
          UNION ALL
          (SELECT customer_id, agent_id, count(*), count(*) FILTER (WHERE status <> 'success'),
                  count(*) FILTER (WHERE status = 'timeout'), max(started_at)
           FROM telemetry_interaction GROUP BY customer_id, agent_id
           EXCEPT
           SELECT customer_id, agent_id, interaction_count, error_count, timeout_count,
                  last_interaction_at FROM customers_agentassignment)
        ) AS differences
        """
    )

    assert mismatches == 0


def test_customer_last_activity_matches_evidence(generated, db):
    mismatches = sql_value(
        """
        SELECT count(*) FROM customers_customer c
        WHERE c.last_activity_at IS DISTINCT FROM GREATEST(
          (SELECT max(started_at) FROM telemetry_interaction i WHERE i.customer_id = c.id),
          (SELECT max(last_activity_at) FROM customers_trial t WHERE t.customer_id = c.id))
        """
    )

    assert mismatches == 0


def test_trial_agents_include_interaction_agents(generated, db):
    missing = sql_value(
        """
        SELECT count(*) FROM (SELECT DISTINCT trial_id, agent_id FROM telemetry_interaction
                              WHERE trial_id IS NOT NULL) pairs
        JOIN customers_trial t ON t.id = pairs.trial_id
        JOIN customers_agent a ON a.id = pairs.agent_id
        WHERE NOT t.agents_involved ? a.name
        """
    )

    assert missing == 0


def test_normalized_forms_match_product(generated, db):
    customers = list(Customer.objects.values_list("email", "email_normalized", "phone",
                                                  "phone_normalized"))  # fmt: skip

    email_mismatches = [row for row in customers if email_normalize(email=row[0]) != row[1]]
    phone_mismatches = [row for row in customers if phone_normalize(phone=row[2]) != row[3]]
    assert email_mismatches == []
    assert phone_mismatches == []


def test_profiles_vary_like_real_ones(generated, db):
    names = list(Customer.objects.values_list("name", flat=True))
    emails = list(Customer.objects.values_list("email", flat=True))

    assert len(set(names)) < len(names)
    assert any(not name.isascii() for name in names)
    assert any("+" in email.split("@")[0] for email in emails)
    assert Customer.objects.exclude(company="").exists()
    assert Customer.objects.filter(phone__startswith="+44").exists()


def test_activity_skewed_toward_few_customers(generated, db):
    per_customer = sorted(
        Interaction.objects.values("customer_id")
        .order_by()
        .annotate(count=Count("id"))
        .values_list("count", flat=True),
        reverse=True,
    )

    median = per_customer[len(per_customer) // 2]
    assert per_customer[0] > Sizes.from_scale(scale=TINY_SCALE).interactions / 10
    assert per_customer[0] > 50 * median


def test_demo_customer_and_trial_present(generated, db):
    customer = Customer.objects.get(customer_id=DEMO_CUSTOMER_ID)
    trial = Trial.objects.get(trial_id=DEMO_TRIAL_ID)

    assert customer.name == "John Doe"
    assert customer.email_normalized == "john@example.com"
    assert trial.customer_id == customer.pk
    assert trial.status == Trial.Status.STUCK
    assert trial.current_step == 7
    assert trial.total_steps == 15


def test_indexes_and_constraints_restored(generated, db):
    assert schema_names() == generated["schema_before"]
    assert stash_is_empty()


def test_sequences_continue_after_copied_ids(generated, db):
    customer = Customer.objects.create(customer_id="cust-after-generation")

    assert customer.pk == Sizes.from_scale(scale=TINY_SCALE).customers + 1


def test_generate_rejects_filled_tables_without_reset(generated, db):
    with pytest.raises(SystemExit, match="pass --reset"):
        dataset_generate(scale=TINY_SCALE, migrate=False, output=lambda line: None)


def test_generate_if_missing_keeps_same_scale(generated, db):
    report = dataset_generate(
        scale=TINY_SCALE, migrate=False, if_missing=True, output=lambda line: None
    )

    assert report.skipped
    assert dataset_marker_get()["finished"]
    assert Interaction.objects.count() == Sizes.from_scale(scale=TINY_SCALE).interactions
