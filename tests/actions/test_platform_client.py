import socket

import pytest

from actions.platform_client import (
    PlatformClient,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
)
from tests.actions.fake_platform import TOKEN, Reply

RESTART_PATH = "/v1/customers/cust-123/agents/WowMemory/restart"


def client_for(platform) -> PlatformClient:
    return PlatformClient.from_settings(log_context={"action_id": "act-test"})


def test_restart_sends_bearer_and_reason(fake_platform):
    body = client_for(fake_platform).agent_restart(
        customer_id="cust-123", agent="WowMemory", reason="Pool exhausted"
    )

    assert body["status"] == "RUNNING"
    [call] = fake_platform.calls("POST", RESTART_PATH)
    assert call.authorization == f"Bearer {TOKEN}"
    assert call.body == {"reason": "Pool exhausted"}


def test_transient_503_then_success(fake_platform):
    fake_platform.script(
        "POST",
        RESTART_PATH,
        Reply(503, {"error": "Restart failed"}),
        Reply(200, {"status": "RUNNING"}),
    )

    body = client_for(fake_platform).agent_restart(
        customer_id="cust-123", agent="WowMemory", reason="r"
    )

    assert body == {"status": "RUNNING"}
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 2


def test_persistent_503_raises_unavailable(fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(503, {"error": "Restart failed"}))

    with pytest.raises(PlatformUnavailable) as raised:
        client_for(fake_platform).agent_restart(
            customer_id="cust-123", agent="WowMemory", reason="r"
        )

    assert raised.value.status_code == 503
    assert raised.value.message == (
        f"The platform returned 503 for POST {RESTART_PATH}: Restart failed"
    )
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 3


def test_404_raises_rejected_without_retry(fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(404, {"error": "Unknown agent WowMemory"}))

    with pytest.raises(PlatformRejected) as raised:
        client_for(fake_platform).agent_restart(
            customer_id="cust-123", agent="WowMemory", reason="r"
        )

    assert raised.value.status_code == 404
    assert raised.value.platform_message == "Unknown agent WowMemory"
    assert (
        raised.value.message == "The platform rejected the request (404): Unknown agent WowMemory"
    )
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 1


def test_409_carries_platform_message(fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(409, {"error": "Already restarting"}))

    with pytest.raises(PlatformRejected) as raised:
        client_for(fake_platform).agent_restart(
            customer_id="cust-123", agent="WowMemory", reason="r"
        )

    assert raised.value.status_code == 409
    assert raised.value.platform_message == "Already restarting"


def test_wrong_token_names_setting(fake_platform, settings):
    settings.PLATFORM_API_TOKEN = "wrong"

    with pytest.raises(PlatformRejected) as raised:
        client_for(fake_platform).workflow_get(workflow_id="trial-wf-12345")

    assert raised.value.status_code == 401
    assert "PLATFORM_API_TOKEN" in raised.value.message


def test_read_timeout_raises_unavailable(fake_platform):
    fake_platform.script("GET", "/v1/workflows/trial-wf-12345", Reply(200, {}, delay=1.5))

    with pytest.raises(PlatformUnavailable) as raised:
        client_for(fake_platform).workflow_get(workflow_id="trial-wf-12345")

    assert raised.value.message == (
        "The platform did not respond to GET /v1/workflows/trial-wf-12345 within 0.5 s; "
        "it may be overloaded. Try again in a minute."
    )
    assert raised.value.detail == (
        "The platform did not respond to GET /v1/workflows/trial-wf-12345 within 0.5 s; "
        "it may be overloaded."
    )
    assert len(fake_platform.calls("GET", "/v1/workflows/trial-wf-12345")) == 3


def test_refused_connection_raises_unavailable(settings, fake_platform):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.PLATFORM_API_URL = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(PlatformUnavailable) as raised:
        client_for(fake_platform).workflow_get(workflow_id="trial-wf-12345")

    assert raised.value.message.startswith(
        f"The platform control API at http://127.0.0.1:{closed_port} could not be reached"
    )


def test_500_is_neither_transient_nor_rejected(fake_platform):
    fake_platform.script("GET", "/v1/workflows/trial-wf-12345", Reply(500, {"error": "Boom"}))

    with pytest.raises(PlatformError) as raised:
        client_for(fake_platform).workflow_get(workflow_id="trial-wf-12345")

    assert type(raised.value) is PlatformError
    assert len(fake_platform.calls("GET", "/v1/workflows/trial-wf-12345")) == 1


def test_path_segments_are_quoted(fake_platform):
    with pytest.raises(PlatformRejected):
        client_for(fake_platform).workflow_get(workflow_id="../healthz")

    assert fake_platform.requests[-1].path == "/v1/workflows/..%2Fhealthz"
