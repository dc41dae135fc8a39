from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from customers.models import AgentAssignment, Customer, Trial
from telemetry.models import Alert, Interaction, LogRecord, MetricSample
from telemetry.selectors import saturation_readings_get

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The default hasher spends about a second per password, by design; these tests need none.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo(*arguments: str) -> str:
    output = StringIO()
    call_command("load_demo", "--customers", "20", *arguments, stdout=output)
    return output.getvalue()


def test_load_demo_stores_story_trial():
    load_demo()

    trial = Trial.objects.get(trial_id="trial-wf-12345")

    assert trial.customer.customer_id == "cust-123"
    assert trial.status == Trial.Status.STUCK
    assert trial.current_step == 7
    assert trial.total_steps == 15
    assert trial.step_name == "initialize_agent_context"
    assert trial.plan == "premium"


def test_load_demo_stores_story_profile():
    load_demo()

    customer = Customer.objects.get(customer_id="cust-123")

    assert customer.name == "John Doe"
    assert customer.email == "john@example.com"
    assert customer.phone == "+1234567890"
    assert customer.company == "Acme Corp"


def test_load_demo_stores_memory_timeouts():
    load_demo()

    timeouts = Interaction.objects.filter(
        customer__customer_id="cust-123",
        agent__name="WowMemory",
        status=Interaction.Status.TIMEOUT,
    ).order_by("started_at")

    assert timeouts.count() == 3
    for interaction in timeouts:
        assert interaction.operation == "retrieve_context"
        assert interaction.error_type == "TimeoutError"
        assert interaction.error_message == "Database connection timeout after 30s"
        assert interaction.trial.trial_id == "trial-wf-12345"
        assert interaction.workflow_step == 7
        assert interaction.duration_ms >= 30000
    bodies = list(timeouts.last().logs.order_by("timestamp").values_list("body", flat=True))
    assert bodies[0] == "Connecting to database..."
    assert bodies[-1] == "ERROR: Connection timeout"


def test_load_demo_keeps_earlier_successes():
    load_demo()

    successes = Interaction.objects.filter(
        customer__customer_id="cust-123", status=Interaction.Status.SUCCESS
    )
    operations = set(successes.values_list("operation", flat=True))

    assert {"store_context", "start_trial_workflow", "retrieve_context"} <= operations


def test_load_demo_counts_memory_instance():
    load_demo()

    assignment = AgentAssignment.objects.get(
        customer__customer_id="cust-123", agent__name="WowMemory"
    )

    assert assignment.status == "DEGRADED"
    assert assignment.timeout_count == 3
    assert assignment.interaction_count == 9


def test_load_demo_second_run_noop():
    first = load_demo()
    counts = (Interaction.objects.count(), LogRecord.objects.count(), Trial.objects.count())

    second = load_demo()

    assert first.startswith("Loaded the demo world")
    assert second.startswith("Demo world already loaded")
    assert "nothing to do" in second
    assert (Interaction.objects.count(), LogRecord.objects.count(), Trial.objects.count()) == counts


def test_load_demo_creates_operator():
    output = load_demo()

    user = authenticate(
        RequestFactory().post("/accounts/login/"), username="operator", password="operator-demo"
    )

    assert "Created the demo login operator / operator-demo." in output
    assert user is not None
    assert user.is_staff is True


def test_load_demo_same_name_pair():
    load_demo()

    pair = Customer.objects.filter(name="Maria Garcia").order_by("customer_id")

    assert list(pair.values_list("company", flat=True)) == ["Globex", "Initech"]


def test_load_demo_stores_pool_metrics():
    load_demo()

    used = MetricSample.objects.filter(
        name="db.client.connection.count",
        agent__name="WowMemory",
        customer__customer_id="cust-123",
    ).order_by("-timestamp")
    latest = [
        sample for sample in used if sample.attributes["db.client.connection.state"] == "used"
    ]

    assert len(latest) == 30
    assert latest[0].value == 95.0
    assert latest[0].attributes["db.client.connection.pool.name"] == "wowmemory-primary"
    assert latest[-1].value < 95.0
    assert Trial.objects.get(trial_id="trial-wf-12345").status == Trial.Status.STUCK


def test_load_demo_story_saturation_reading():
    load_demo()
    customer = Customer.objects.get(customer_id="cust-123")

    readings = saturation_readings_get(
        since=timezone.now() - timedelta(minutes=30), customer=customer
    )

    pools = [
        r for r in readings if r.metric == "db.client.connection.count" and r.agent == "WowMemory"
    ]
    assert len(pools) == 1
    assert pools[0].value == 95.0
    assert pools[0].limit == 100.0
    assert pools[0].customer_id == "cust-123"


def test_load_demo_fires_story_alert():
    load_demo()

    alert = Alert.objects.get(customer__customer_id="cust-123")

    assert alert.name == "DatabasePoolExhausted"
    assert alert.status == Alert.Status.FIRING
    assert alert.agent.name == "WowMemory"
    assert alert.severity == "critical"
    assert alert.summary == (
        "WowMemory database connection pool wowmemory-primary is exhausted: "
        "95/100 connections in use"
    )
