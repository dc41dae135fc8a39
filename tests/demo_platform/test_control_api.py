import threading
import time

import pytest
import requests

from tests.demo_platform.conftest import ControlClient

STORY_WORKFLOW = "/v1/workflows/trial-wf-12345"
STORY_MEMORY = "/v1/customers/cust-123/agents/WowMemory"


def workflow_wait(control: ControlClient, status: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = control.get(STORY_WORKFLOW).json()
        if body["status"] == status or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_healthz_needs_no_token(platform):
    anonymous = ControlClient(f"http://127.0.0.1:{platform.port}", token=None)

    response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_wrong_token_401(platform, token):
    client = ControlClient(f"http://127.0.0.1:{platform.port}", token=token)

    response = client.get("/v1/customers/cust-123/agents")

    assert response.status_code == 401
    assert response.json()["error"].startswith("Missing or invalid bearer token")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="demo-platform"'


def test_customer_agents_list_statuses(control):
    response = control.get("/v1/customers/cust-123/agents")

    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == "cust-123"
    assert body["agents"][0] == {"agent": "WowMemory", "status": "DEGRADED", "version": "0.4.2"}
    assert [a["status"] for a in body["agents"][1:]] == ["RUNNING"] * 4


def test_agent_get_single(control):
    response = control.get("/v1/customers/cust-123/agents/WowOrchestrator")

    assert response.status_code == 200
    assert response.json() == {
        "customer_id": "cust-123",
        "agent": "WowOrchestrator",
        "status": "RUNNING",
        "version": "2.3.1",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/v1/customers/cust-999/agents",
        "/v1/customers/cust-123/agents/WowNothing",
        "/v1/customers/cust-999/agents/WowMemory/restart",
        "/v1/workflows/trial-wf-0",
        "/v1/nothing-here",
    ],
)
def test_unknown_resources_404(control, path):
    method = control.post if path.endswith("restart") else control.get

    response = method(path)

    assert response.status_code == 404
    assert (
        "not found" in response.json()["error"].lower() or "No endpoint" in response.json()["error"]
    )


def test_story_workflow_get(control):
    response = control.get(STORY_WORKFLOW)

    assert response.status_code == 200
    body = response.json()
    assert body["workflow_id"] == "trial-wf-12345"
    assert body["customer_id"] == "cust-123"
    assert body["status"] == "STUCK"
    assert body["current_step"] == 7
    assert body["total_steps"] == 15
    assert body["step_name"] == "initialize_agent_context"
    assert body["detail"].endswith("Database connection timeout after 30s")


def test_restart_clears_pool_fault(control, platform, helpdesk_sink):
    response = control.post(f"{STORY_MEMORY}/restart", {"reason": "Resolving timeout issue"})

    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == "cust-123"
    assert body["agent"] == "WowMemory"
    assert body["status"] == "RUNNING"
    assert body["duration_ms"] >= 1000
    assert control.get(STORY_MEMORY).json()["status"] == "RUNNING"
    faults = control.get("/v1/faults").json()["faults"]
    assert [f for f in faults if f["customer_id"] == "cust-123"] == []

    platform.sender.flush()
    memory_events = [
        e["status"]
        for e in helpdesk_sink.events
        if e["type"] == "agent.status"
        and e.get("customer_id") == "cust-123"
        and e["agent"] == "WowMemory"
    ]
    assert memory_events[-2:] == ["RESTARTING", "RUNNING"]


def test_restart_while_restarting_409(control):
    first: dict = {}
    thread = threading.Thread(
        target=lambda: first.setdefault("response", control.post(f"{STORY_MEMORY}/restart"))
    )
    thread.start()
    time.sleep(0.3)

    second = control.post(f"{STORY_MEMORY}/restart", {"reason": "again"})
    thread.join()

    assert second.status_code == 409
    assert second.json() == {"error": "WowMemory for cust-123 is already restarting."}
    assert first["response"].status_code == 200


def test_restart_fails_fault_503(control):
    injected = control.post(
        "/v1/faults", {"kind": "restart_fails", "agent": "WowMemory", "customer_id": "cust-123"}
    )

    response = control.post(f"{STORY_MEMORY}/restart", {"reason": "try"})

    assert injected.status_code == 201
    assert response.status_code == 503
    assert response.json()["error"].startswith("Restart of WowMemory for cust-123 failed")
    assert control.get(STORY_MEMORY).json()["status"] == "DEGRADED"


def test_retry_with_fault_sticks_again(control):
    response = control.post(f"{STORY_WORKFLOW}/retry", {"from_step": 7})

    assert response.status_code == 202
    assert response.json()["status"] == "RUNNING"
    assert response.json()["current_step"] == 7
    body = workflow_wait(control, "STUCK")
    assert body["status"] == "STUCK"
    assert body["current_step"] == 7


def test_restart_then_retry_completes(control, platform, helpdesk_sink):
    control.post(f"{STORY_MEMORY}/restart", {"reason": "Resolving timeout issue"})

    response = control.post(f"{STORY_WORKFLOW}/retry", {"from_step": 7})
    body = workflow_wait(control, "COMPLETED")

    assert response.status_code == 202
    assert body["status"] == "COMPLETED"
    assert body["current_step"] == 15
    platform.sender.flush()
    progress = [
        (e["current_step"], e["status"])
        for e in helpdesk_sink.events
        if e["type"] == "trial.progress" and e["trial_id"] == "trial-wf-12345"
    ]
    assert progress[-1] == (15, "COMPLETED")
    assert (8, "RUNNING") in progress


def test_retry_completed_workflow_409(control, platform):
    completed = next(t for t in platform.world.trials.values() if t.status == "COMPLETED")

    response = control.post(f"/v1/workflows/{completed.trial_id}/retry", {"from_step": 3})

    assert response.status_code == 409
    assert response.json() == {"error": f"Workflow {completed.trial_id} is already completed."}


def test_retry_after_current_step_409(control):
    response = control.post(f"{STORY_WORKFLOW}/retry", {"from_step": 9})

    assert response.status_code == 409
    assert "after the current step 7" in response.json()["error"]


@pytest.mark.parametrize("from_step", [0, 16, "seven", 7.5, True])
def test_retry_invalid_from_step_422(control, from_step):
    response = control.post(f"{STORY_WORKFLOW}/retry", {"from_step": from_step})

    assert response.status_code == 422
    assert "from_step" in response.json()["error"]
    assert control.get(STORY_WORKFLOW).json()["status"] == "STUCK"


def test_retry_body_not_json_400(control):
    response = requests.post(
        f"{control.base_url}{STORY_WORKFLOW}/retry",
        data=b"{not json",
        headers=control.headers,
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith("Request body is not valid JSON")


def test_fault_inject_then_clear(control):
    injected = control.post("/v1/faults", {"kind": "rate_limited", "customer_id": "cust-2001"})
    fault_id = injected.json()["fault_id"]
    degraded = control.get("/v1/customers/cust-2001/agents/WowAPI").json()["status"]

    cleared = control.delete(f"/v1/faults/{fault_id}")

    assert injected.status_code == 201
    assert injected.json()["agent"] == "WowAPI"
    assert degraded == "DEGRADED"
    assert cleared.status_code == 200
    assert control.get("/v1/customers/cust-2001/agents/WowAPI").json()["status"] == "RUNNING"
    assert fault_id not in [f["fault_id"] for f in control.get("/v1/faults").json()["faults"]]


def test_platform_wide_fault_sticks_trial(control, platform):
    control.post(f"{STORY_MEMORY}/restart", {"reason": "clear the customer fault"})
    injected = control.post("/v1/faults", {"kind": "db_pool_exhausted"})

    control.post(f"{STORY_WORKFLOW}/retry", {"from_step": 7})
    body = workflow_wait(control, "STUCK")

    assert injected.json()["customer_id"] is None
    assert body["status"] == "STUCK"
    assert body["current_step"] == 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "meteor_strike"}, "Unknown fault kind 'meteor_strike'"),
        ({"kind": "db_pool_exhausted", "agent": "WowAPI"}, "lives in WowMemory, not in WowAPI"),
        ({"kind": "restart_fails"}, "needs an agent"),
    ],
)
def test_fault_invalid_body_422(control, body, message):
    response = control.post("/v1/faults", body)

    assert response.status_code == 422
    assert message in response.json()["error"]


def test_fault_unknown_customer_404(control):
    response = control.post("/v1/faults", {"kind": "rate_limited", "customer_id": "cust-999"})

    assert response.status_code == 404
    assert response.json() == {"error": "Customer 'cust-999' not found."}


def test_fault_clear_unknown_404(control):
    response = control.delete("/v1/faults/fault-9999")

    assert response.status_code == 404
    assert response.json() == {"error": "Fault 'fault-9999' not found."}


def test_wrong_method_405(control):
    response = control.delete(STORY_WORKFLOW)

    assert response.status_code == 405
    assert response.json()["error"] == (f"Method DELETE not allowed on {STORY_WORKFLOW}; use GET.")


def test_cli_host_defaults_to_loopback():
    from demo_platform.__main__ import arguments_parse

    assert arguments_parse([]).host == "127.0.0.1"
    assert arguments_parse(["--host", "0.0.0.0"]).host == "0.0.0.0"
