import pytest

from actions import services
from actions.models import QuickAction
from helpdesk.models import ApiToken, hash_token

BASE = "/api/platform/helpdesk"


@pytest.fixture
def api_token(operator) -> str:
    raw_token = ApiToken.generate_raw_token()
    ApiToken.objects.create(user=operator, token_hash=hash_token(raw_token), prefix=raw_token[:8])
    return raw_token


def post_json(client, path, body, token):
    return client.post(
        BASE + path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def field_messages(response) -> list[tuple[str, str]]:
    """Return (field, message) of each item in an error body's errors list."""
    return [(error["field"], error["message"]) for error in response.json()["errors"]]


def test_restart_api_accepts(customer, client, api_token, operator):
    response = post_json(
        client,
        "/customers/cust-123/actions/restart-agent",
        {"agent_id": "WowMemory", "reason": "Resolving timeout issue"},
        api_token,
    )

    action = QuickAction.objects.get()
    assert response.status_code == 202
    assert response.json() == {
        "action_id": action.action_id,
        "status": "pending",
        "estimated_duration_seconds": 10,
    }
    assert action.requested_by == operator
    assert action.params == {"agent": "WowMemory"}


def test_retry_api_accepts(customer, client, api_token):
    response = post_json(
        client,
        "/customers/cust-123/actions/retry-workflow",
        {"workflow_id": "trial-wf-12345", "from_step": 7, "reason": "Agent restarted"},
        api_token,
    )

    assert response.status_code == 202
    assert response.json()["estimated_duration_seconds"] == 15
    assert QuickAction.objects.get().params == {"workflow_id": "trial-wf-12345", "from_step": 7}


def test_api_unknown_customer_404(db, client, api_token):
    response = post_json(
        client,
        "/customers/cust-404/actions/restart-agent",
        {"agent_id": "WowMemory", "reason": "r"},
        api_token,
    )

    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer 'cust-404' not found; check the customer id.",
        "errors": [],
    }


def test_api_invalid_step_422(customer, client, api_token):
    response = post_json(
        client,
        "/customers/cust-123/actions/retry-workflow",
        {"workflow_id": "trial-wf-12345", "from_step": 16, "reason": "r"},
        api_token,
    )

    message = (
        "Step 16 is outside workflow trial-wf-12345, which has 15 steps; "
        "enter a step between 1 and 7."
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": message,
        "errors": [{"field": "from_step", "message": message}],
    }
    assert QuickAction.objects.count() == 0


def test_api_missing_reason_422(customer, client, api_token):
    response = post_json(
        client, "/customers/cust-123/actions/restart-agent", {"agent_id": "WowMemory"}, api_token
    )

    assert response.status_code == 422
    assert response.json()["message"] == "The request is invalid; see errors for each field."


def test_api_requires_authentication(customer, client):
    response = client.post(
        BASE + "/customers/cust-123/actions/restart-agent",
        {"agent_id": "WowMemory", "reason": "r"},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert QuickAction.objects.count() == 0


def test_action_api_returns_status(customer, client, api_token, operator):
    action = services.quick_action_request(
        customer=customer,
        kind="restart_agent",
        params={"agent": "WowMemory"},
        reason="Resolving timeout issue",
        requested_by=operator,
    )

    response = client.get(
        f"{BASE}/actions/{action.action_id}", HTTP_AUTHORIZATION=f"Bearer {api_token}"
    )

    body = response.json()
    assert response.status_code == 200
    assert body["action_id"] == action.action_id
    assert body["kind"] == "restart_agent"
    assert body["status"] == "pending"
    assert body["params"] == {"agent": "WowMemory"}
    assert body["reason"] == "Resolving timeout issue"
    assert body["requested_by"] == "operator"
    assert body["started_at"] is None
    assert body["finished_at"] is None
    assert body["result"] == {}
    assert body["error"] == ""


def test_action_api_unknown_action_404(customer, operator_client):
    response = operator_client.get(f"{BASE}/actions/act-missing")

    assert response.status_code == 404
    assert (
        response.json()["message"] == "Quick action 'act-missing' not found; check the action id."
    )


@pytest.mark.parametrize(
    ("from_step", "shown"),
    [(True, "true"), (False, "false"), ("7", '"7"'), (7.0, "7.0"), (7.5, "7.5"), (None, "null")],
)
def test_retry_api_rejects_non_integer_step(customer, client, api_token, from_step, shown):
    response = post_json(
        client,
        "/customers/cust-123/actions/retry-workflow",
        {"workflow_id": "trial-wf-12345", "from_step": from_step, "reason": "r"},
        api_token,
    )

    message = (
        f"from_step {shown} is not an integer; send the step number as a JSON integer, "
        "for example 7."
    )
    assert response.status_code == 422
    assert field_messages(response) == [("from_step", message)]
    assert QuickAction.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "field", "value", "shown", "example"),
    [
        ("retry-workflow", "workflow_id", True, "true", '"trial-wf-12345"'),
        ("retry-workflow", "workflow_id", 12345, "12345", '"trial-wf-12345"'),
        ("restart-agent", "agent_id", True, "true", '"WowMemory"'),
        ("restart-agent", "agent_id", ["WowMemory"], '["WowMemory"]', '"WowMemory"'),
        ("restart-agent", "reason", 5, "5", '"Connection pool exhausted"'),
    ],
)
def test_action_api_rejects_non_string_ids(
    customer, client, api_token, path, field, value, shown, example
):
    body = {"workflow_id": "trial-wf-12345", "from_step": 7, "agent_id": "WowMemory"}
    body["reason"] = "r"
    body[field] = value

    response = post_json(client, f"/customers/cust-123/actions/{path}", body, api_token)

    message = f"{field} {shown} is not a string; send it as a JSON string, for example {example}."
    assert response.status_code == 422
    assert field_messages(response) == [(field, message)]
    assert QuickAction.objects.count() == 0
