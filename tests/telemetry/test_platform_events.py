"""State events endpoint: validation per event, upserts, trial progress, agent status."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Agent, AgentAssignment, Customer, Trial
from helpdesk.models import ApiToken, hash_token
from telemetry.services import platform_events_ingest
from tests.factories import AgentFactory, CustomerFactory, TrialFactory

pytestmark = pytest.mark.django_db

URL = "/api/platform/helpdesk/ingest/events"
HEADERS = {"Authorization": "Bearer demo-ingest-token"}
T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def post_events(client, body, headers=HEADERS):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def progress(**fields) -> dict:
    return {
        "type": "trial.progress",
        "trial_id": "trial-wf-12345",
        "customer_id": "cust-123",
        "plan": "premium",
        "current_step": 7,
        "total_steps": 15,
        "step_name": "retrieve_context",
        "status": "STUCK",
        "detail": "Database connection timeout after 30s",
        "agents": ["WowOrchestrator", "WowMemory"],
        "occurred_at": T0.isoformat(),
        **fields,
    }


def upsert(**fields) -> dict:
    customer = {
        "customer_id": "cust-123",
        "name": "John Doe",
        "email": "john@example.com",
        "phone": "+1234567890",
        "company": "Acme Corp",
        "metadata": {"tier": "premium"},
        **fields,
    }
    return {"type": "customer.upserted", "customer": customer}


def test_valid_and_invalid_events_mixed(client):
    body = {
        "events": [
            upsert(),
            progress(status="DONE"),
            {"type": "agent.status", "agent": "WowMemory", "status": "DEGRADED",
             "occurred_at": "2026-01-01T12:00:00Z"},
            {"type": "queue.depth"},
            progress(current_step=16),
            "not an object",
        ]
    }  # fmt: skip

    response = post_events(client, body)

    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 2
    assert [item["index"] for item in body["rejected"]] == [1, 3, 4, 5]
    assert body["rejected"][0]["message"].startswith("status is invalid (Input should be")
    assert "got 'DONE'" in body["rejected"][0]["message"]
    assert body["rejected"][1]["message"] == (
        "type 'queue.depth' is not supported: "
        "use one of customer.upserted, trial.progress, agent.status."
    )
    assert body["rejected"][2]["message"] == (
        "current_step 16 is after total_steps 15: send a step between 1 and total_steps."
    )
    assert body["rejected"][3]["message"] == "event is str: send a JSON object."
    assert Customer.objects.get().name == "John Doe"
    assert Agent.objects.get(name="WowMemory").status == Agent.Status.DEGRADED
    assert Trial.objects.count() == 0


def test_missing_field_named():
    result = platform_events_ingest(events=[{"type": "agent.status", "agent": "WowMemory"}])

    assert result.rejected == 1
    assert result.errors == ["status is missing: add it. occurred_at is missing: add it."]
    assert result.rejected_items[0].index == 0


def test_naive_time_rejected():
    result = platform_events_ingest(events=[progress(occurred_at="2026-01-01T12:00:00")])

    assert result.errors == ["occurred_at has no time zone: send ISO-8601 with Z or an offset."]


def test_body_without_events_rejected(client):
    response = post_events(client, {"items": []})

    assert response.status_code == 400
    assert response.json() == {
        "message": 'Body must be a JSON object with an "events" list.',
        "errors": [],
    }


def test_body_not_json_rejected(client):
    response = post_events(client, "{not json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("The request body is not valid JSON: ")


def test_missing_token_rejected(client):
    response = post_events(client, {"events": [upsert()]}, headers={})

    assert response.status_code == 401
    assert Customer.objects.count() == 0


def test_operator_api_token_rejected(client, operator):
    ApiToken.objects.create(user=operator, prefix="operat", token_hash=hash_token("operator-token"))

    response = post_events(
        client, {"events": [upsert()]}, headers={"Authorization": "Bearer operator-token"}
    )

    assert response.status_code == 401
    assert Customer.objects.count() == 0


def test_customer_upsert_normalizes_contacts():
    platform_events_ingest(
        events=[upsert(email="  John.Doe+trial@Example.COM ", phone="(202) 555-0143")]
    )

    customer = Customer.objects.get(customer_id="cust-123")
    assert customer.email == "John.Doe+trial@Example.COM"
    assert customer.email_normalized == "john.doe@example.com"
    assert customer.phone_normalized == "+12025550143"
    assert customer.company == "Acme Corp"
    assert customer.metadata == {"tier": "premium"}


def test_customer_upsert_keeps_absent_fields():
    platform_events_ingest(events=[upsert()])

    platform_events_ingest(
        events=[{"type": "customer.upserted", "customer": {"customer_id": "cust-123", "name": "J"}}]
    )

    customer = Customer.objects.get(customer_id="cust-123")
    assert customer.name == "J"
    assert customer.email == "john@example.com"
    assert customer.phone_normalized == "1234567890"


def test_trial_progress_creates_trial():
    platform_events_ingest(events=[progress()])

    trial = Trial.objects.get(trial_id="trial-wf-12345")
    assert trial.customer.customer_id == "cust-123"
    assert trial.status == Trial.Status.STUCK
    assert trial.current_step == 7
    assert trial.total_steps == 15
    assert trial.step_name == "retrieve_context"
    assert trial.status_detail == "Database connection timeout after 30s"
    assert trial.agents_involved == ["WowOrchestrator", "WowMemory"]
    assert trial.started_at == T0
    assert trial.step_started_at == T0
    assert trial.completed_at is None


def test_step_start_kept_within_step():
    TrialFactory(
        trial_id="trial-wf-12345",
        customer__customer_id="cust-123",
        current_step=7,
        started_at=T0 - dt.timedelta(hours=1),
        step_started_at=T0 - dt.timedelta(minutes=10),
        agents_involved=["WowMemory"],
    )

    platform_events_ingest(events=[progress(occurred_at=T0.isoformat())])

    trial = Trial.objects.get()
    assert trial.step_started_at == T0 - dt.timedelta(minutes=10)
    assert trial.last_activity_at == T0
    assert trial.agents_involved == ["WowMemory", "WowOrchestrator"]


def test_step_change_moves_step_start():
    platform_events_ingest(events=[progress()])
    later = T0 + dt.timedelta(minutes=3)

    platform_events_ingest(
        events=[
            progress(current_step=8, status="RUNNING", detail="", occurred_at=later.isoformat())
        ]
    )

    trial = Trial.objects.get()
    assert trial.current_step == 8
    assert trial.step_started_at == later
    assert trial.status_detail == ""


def test_completion_sets_completed_at():
    done = T0 + dt.timedelta(minutes=3)

    platform_events_ingest(
        events=[
            progress(),
            progress(current_step=15, status="COMPLETED", occurred_at=done.isoformat()),
        ]
    )

    trial = Trial.objects.get()
    assert trial.status == Trial.Status.COMPLETED
    assert trial.completed_at == done
    assert trial.progress_percent == 100


def agent_status(**fields) -> dict:
    return {
        "type": "agent.status",
        "agent": "WowMemory",
        "status": "RUNNING",
        "occurred_at": T0.isoformat(),
        **fields,
    }


def test_agent_version_change_recorded():
    AgentFactory(name="WowMemory", version="0.4.2", status=Agent.Status.RUNNING)
    later = T0 + dt.timedelta(hours=1)

    platform_events_ingest(
        events=[
            agent_status(version="0.4.2", status="DEGRADED"),
            agent_status(version="0.4.3", occurred_at=later.isoformat()),
        ]
    )

    agent = Agent.objects.get(name="WowMemory")
    assert agent.version == "0.4.3"
    assert agent.version_changed_at == later
    assert agent.status == Agent.Status.RUNNING
    assert agent.status_changed_at == later


def test_first_version_not_a_change():
    platform_events_ingest(events=[agent_status(version="0.4.2")])

    agent = Agent.objects.get(name="WowMemory")
    assert agent.version == "0.4.2"
    assert agent.version_changed_at is None


def test_customer_scoped_status_sets_assignment():
    AgentFactory(name="WowMemory", status=Agent.Status.RUNNING)
    CustomerFactory(customer_id="cust-123")

    platform_events_ingest(events=[agent_status(status="RESTARTING", customer_id="cust-123")])

    assignment = AgentAssignment.objects.get(customer__customer_id="cust-123")
    assert assignment.status == Agent.Status.RESTARTING
    assert Agent.objects.get(name="WowMemory").status == Agent.Status.RUNNING


def test_oversized_body_rejected(client, settings):
    settings.INGEST_MAX_BODY_BYTES = 50

    response = post_events(client, {"events": [upsert()]})

    assert response.status_code == 413
    assert response.json() == {
        "message": "Request body is larger than 50 bytes: send smaller batches.",
        "errors": [],
    }
    assert Customer.objects.count() == 0


def test_unknown_customer_status_rejected(client):
    body = {"events": [agent_status(customer_id="nobody"), agent_status(agent="WowAPI")]}

    response = post_events(client, body)

    assert response.json() == {
        "accepted": 1,
        "rejected": [
            {"index": 0, "message": "customer nobody not found: send customer.upserted first."}
        ],
    }
    assert Customer.objects.count() == 0
    assert AgentAssignment.objects.count() == 0
    assert list(Agent.objects.values_list("name", flat=True)) == ["WowAPI"]


def test_status_after_upsert_in_batch():
    result = platform_events_ingest(
        events=[
            agent_status(customer_id="cust-123", status="DEGRADED"),
            upsert(),
            agent_status(customer_id="cust-123", status="DOWN"),
        ]
    )

    assert result.accepted == 2
    assert [item.index for item in result.rejected_items] == [0]
    assert AgentAssignment.objects.get().status == Agent.Status.DOWN


def test_progress_then_upsert_fills_customer():
    platform_events_ingest(events=[progress(), upsert()])

    trial = Trial.objects.get()
    assert trial.customer.name == "John Doe"
    assert trial.customer.customer_id == "cust-123"


def test_trial_moves_to_new_customer():
    platform_events_ingest(events=[progress()])

    platform_events_ingest(events=[progress(customer_id="cust-456")])

    assert Trial.objects.get().customer.customer_id == "cust-456"
    assert Customer.objects.count() == 2


def world_batch(count: int, *, trial_prefix: str = "trial") -> list[dict]:
    """Build a re-sync batch like the demo platform's: upserts, trials, agent states."""
    events = []
    for number in range(count):
        customer_id = f"cust-{number}"
        events.append(upsert(customer_id=customer_id, email=f"c{number}@example.com"))
        events.append(progress(trial_id=f"{trial_prefix}-{number}", customer_id=customer_id))
        events.append(agent_status(customer_id=customer_id, status="DEGRADED"))
    events.append(agent_status(version="0.4.2"))
    return events


def queries_for(events: list[dict]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        result = platform_events_ingest(events=events)
    assert result.rejected == 0
    return [query["sql"] for query in queries.captured_queries]


def test_batch_query_count_fixed():
    small = queries_for(world_batch(3))
    large = queries_for(world_batch(40, trial_prefix="large"))

    assert len(large) == len(small)
    assert Trial.objects.count() == 43
    assert AgentAssignment.objects.filter(status=Agent.Status.DEGRADED).count() == 40


def test_resent_state_writes_nothing():
    events = world_batch(5)
    platform_events_ingest(events=events)
    updated_at = dict(Customer.objects.values_list("customer_id", "updated_at"))

    statements = queries_for(events)

    writes = [sql for sql in statements if sql.startswith(("INSERT", "UPDATE"))]
    assert all("telemetry_ingestcounter" in sql for sql in writes)
    assert dict(Customer.objects.values_list("customer_id", "updated_at")) == updated_at


def test_changed_profile_updates_row():
    platform_events_ingest(events=world_batch(2))

    moved = progress(trial_id="trial-0", customer_id="cust-0", current_step=8, status="RUNNING")

    platform_events_ingest(events=[upsert(customer_id="cust-1", company="Globex"), moved])

    assert Customer.objects.get(customer_id="cust-1").company == "Globex"
    assert Customer.objects.get(customer_id="cust-0").company == "Acme Corp"
    assert Trial.objects.get(trial_id="trial-0").current_step == 8
    assert Trial.objects.get(trial_id="trial-1").current_step == 7


def test_older_progress_arriving_late_is_ignored():
    later = T0 + dt.timedelta(minutes=3)
    platform_events_ingest(
        events=[progress(current_step=8, status="RUNNING", occurred_at=later.isoformat())]
    )

    platform_events_ingest(events=[progress(agents=["WowCache"], occurred_at=T0.isoformat())])

    trial = Trial.objects.get()
    assert trial.current_step == 8
    assert trial.status == Trial.Status.RUNNING
    assert trial.progress_at == later
    assert trial.last_activity_at == later
    assert trial.agents_involved == ["WowOrchestrator", "WowMemory", "WowCache"]


def test_progress_in_one_batch_applies_by_time():
    later = T0 + dt.timedelta(minutes=3)

    platform_events_ingest(
        events=[
            progress(current_step=15, status="COMPLETED", occurred_at=later.isoformat()),
            progress(current_step=7, status="STUCK", occurred_at=T0.isoformat()),
        ]
    )

    trial = Trial.objects.get()
    assert trial.status == Trial.Status.COMPLETED
    assert trial.current_step == 15
    assert trial.completed_at == later
