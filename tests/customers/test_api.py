from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Trial
from tests.customers.story import story_build
from tests.factories import CustomerFactory, InteractionFactory, TrialFactory

pytestmark = pytest.mark.django_db

API = "/api/platform/helpdesk/customers"


def test_overview_story_shape(operator_client):
    story_build()

    body = operator_client.get(f"{API}/cust-123").json()

    assert body["customer_id"] == "cust-123"
    assert body["profile"]["name"] == "John Doe"
    assert body["profile"]["email"] == "john@example.com"
    assert body["profile"]["company"] == "Acme Corp"
    assert body["profile"]["metadata"] == {"plan": "premium", "region": "eu-west-1"}
    assert body["completed_trials"] == []
    assert body["open_tickets"] == 0


def test_overview_active_trial_fields(operator_client):
    story_build()

    trial = operator_client.get(f"{API}/cust-123").json()["active_trials"][0]

    assert trial["trial_id"] == "trial-wf-12345"
    assert trial["status"] == "STUCK"
    assert trial["progress"] == 47
    assert trial["current_step"] == 7
    assert trial["total_steps"] == 15
    assert trial["step_name"] == "retrieve_context"
    assert trial["agents_involved"] == ["WowMemory", "WowOrchestrator"]
    assert trial["started_at"].endswith("Z")


def test_overview_agent_assignments(operator_client):
    story_build()

    assignments = operator_client.get(f"{API}/cust-123").json()["agent_assignments"]

    assert [item["agent_id"] for item in assignments] == ["WowMemory", "WowOrchestrator"]
    assert assignments[0]["status"] == "RUNNING"
    assert assignments[0]["total_interactions"] == 2
    assert assignments[0]["error_count"] == 0
    assert assignments[0]["timeout_count"] == 1


def test_overview_health_score(operator_client):
    story_build()

    health = operator_client.get(f"{API}/cust-123").json()["health_score"]

    assert health["score"] == 50
    assert health["status"] == "degraded"
    assert [factor["name"] for factor in health["factors"]] == [
        "trial_stuck",
        "recent_errors",
        "error_rate_24h",
    ]
    assert [factor["impact"] for factor in health["factors"]] == [-30, -10, -10]


def test_overview_quick_stats(operator_client):
    story = story_build()
    TrialFactory(customer=story.customer, status=Trial.Status.COMPLETED)

    stats = operator_client.get(f"{API}/cust-123").json()["quick_stats"]

    assert stats["trials_total"] == 2
    assert stats["trials_active"] == 1
    assert stats["trials_completed"] == 1
    assert stats["agents_used"] == 2
    assert stats["agent_names"] == ["WowMemory", "WowOrchestrator"]


def test_overview_recent_activity_masked(operator_client):
    story_build()

    recent = operator_client.get(f"{API}/cust-123").json()["recent_activity"]

    assert recent[0]["operation"] == "retrieve_context"
    assert recent[0]["request"] == {"context_id": "ctx-456", "headers": {"Authorization": "***"}}
    assert recent[0]["logs"] == ["Connecting to database...", "Connection timeout"]


def test_overview_unknown_customer(operator_client):
    response = operator_client.get(f"{API}/cust-missing")

    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer 'cust-missing' not found. Search by id, email, phone or name.",
        "errors": [],
    }


def test_search_route_not_captured(operator_client):
    story_build()

    response = operator_client.get(f"{API}/search", {"q": "cust-123"})

    assert response.status_code == 200
    assert "customers" in response.json()


def test_overview_requires_authentication(client):
    response = client.get(f"{API}/cust-123")

    assert response.status_code == 401


def test_timeline_story_entries(operator_client):
    story_build()

    body = operator_client.get(f"{API}/cust-123/timeline").json()

    assert body["customer_id"] == "cust-123"
    assert body["next_cursor"] is None
    assert [item["operation"] for item in body["interactions"]] == [
        "retrieve_context",
        "start_trial_workflow",
        "store_context",
    ]


def test_timeline_failed_entry_fields(operator_client):
    story_build()

    entry = operator_client.get(f"{API}/cust-123/timeline").json()["interactions"][0]

    assert entry["agent_id"] == "WowMemory"
    assert entry["response"] is None
    assert entry["duration_ms"] == 30002
    assert entry["status"] == "timeout"
    assert entry["error"] == "Database connection timeout after 30s"
    assert entry["error_type"] == "TimeoutError"
    assert entry["trial_id"] == "trial-wf-12345"
    assert entry["workflow_step"] == 7
    assert entry["logs"] == ["Connecting to database...", "Connection timeout"]
    assert entry["timestamp"].endswith("Z")


def test_timeline_success_entry_fields(operator_client):
    story_build()

    entry = operator_client.get(f"{API}/cust-123/timeline").json()["interactions"][2]

    assert entry["request"] == {"customer_id": "cust-123", "text": "Customer wants premium plan"}
    assert entry["response"] == {"status": "stored", "context_id": "ctx-456"}
    assert entry["status"] == "success"
    assert entry["error"] is None
    assert entry["logs"] == []


def test_timeline_plain_text_body(operator_client):
    customer = CustomerFactory(customer_id="cust-text")
    InteractionFactory(customer=customer, response_body="Authorization: Bearer abc")

    entry = operator_client.get(f"{API}/cust-text/timeline").json()["interactions"][0]

    assert entry["response"] == "Authorization: ***"


def test_timeline_cursor_pages(operator_client):
    customer = CustomerFactory(customer_id="cust-pages")
    now = timezone.now()
    for minute in range(5):
        InteractionFactory(
            customer=customer, operation=f"op_{minute}", started_at=now - timedelta(minutes=minute)
        )

    first = operator_client.get(f"{API}/cust-pages/timeline", {"limit": 3}).json()
    second = operator_client.get(
        f"{API}/cust-pages/timeline", {"limit": 3, "cursor": first["next_cursor"]}
    ).json()

    assert [item["operation"] for item in first["interactions"]] == ["op_0", "op_1", "op_2"]
    assert [item["operation"] for item in second["interactions"]] == ["op_3", "op_4"]
    assert second["next_cursor"] is None


def test_timeline_filters(operator_client):
    story = story_build()
    since = (story.timed_out.started_at - timedelta(minutes=1)).isoformat()

    by_agent = operator_client.get(f"{API}/cust-123/timeline", {"agent": "WowOrchestrator"})
    by_status = operator_client.get(f"{API}/cust-123/timeline", {"status": "success"})
    by_since = operator_client.get(f"{API}/cust-123/timeline", {"since": since})

    assert [i["operation"] for i in by_agent.json()["interactions"]] == ["start_trial_workflow"]
    assert len(by_status.json()["interactions"]) == 2
    assert [i["operation"] for i in by_since.json()["interactions"]] == ["retrieve_context"]


def test_timeline_until_without_offset(operator_client):
    story = story_build()
    until = (story.stored.started_at + timedelta(seconds=1)).replace(tzinfo=None).isoformat()

    response = operator_client.get(f"{API}/cust-123/timeline", {"until": until})

    assert [i["operation"] for i in response.json()["interactions"]] == ["store_context"]


def test_timeline_invalid_cursor(operator_client):
    story_build()

    response = operator_client.get(f"{API}/cust-123/timeline", {"cursor": "garbage"})

    assert response.status_code == 422
    assert response.json() == {
        "message": "Invalid cursor 'garbage': use next_cursor from a timeline page.",
        "errors": [],
    }


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"status": "exploded"}])
def test_timeline_invalid_parameters(operator_client, params):
    story_build()

    response = operator_client.get(f"{API}/cust-123/timeline", params)

    assert response.status_code == 422


def test_timeline_unknown_customer(operator_client):
    response = operator_client.get(f"{API}/cust-missing/timeline")

    assert response.status_code == 404
    assert response.json()["message"].startswith("Customer 'cust-missing' not found.")


@pytest.mark.parametrize(
    ("parameter", "value"),
    [("since", "9999-12-31T23:59:59-14:00"), ("until", "0001-01-01T00:00:00+14:00")],
)
def test_timeline_time_beyond_utc_range(operator_client, parameter, value):
    story_build()

    response = operator_client.get(f"{API}/cust-123/timeline", {parameter: value})

    message = (
        f"{parameter} '{value}' cannot be converted to UTC: "
        "use a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z."
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": message,
        "errors": [{"field": parameter, "message": message}],
    }


def test_timeline_time_at_utc_limits(operator_client):
    story_build()

    response = operator_client.get(
        f"{API}/cust-123/timeline",
        {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"},
    )

    assert response.status_code == 200
    assert len(response.json()["interactions"]) == 3


def test_timeline_offset_converted_to_utc(operator_client):
    story = story_build()
    stored_at = story.stored.started_at
    until = (stored_at + timedelta(seconds=1)).astimezone(timezone.get_fixed_timezone(-14 * 60))

    response = operator_client.get(f"{API}/cust-123/timeline", {"until": until.isoformat()})

    assert [i["operation"] for i in response.json()["interactions"]] == ["store_context"]
