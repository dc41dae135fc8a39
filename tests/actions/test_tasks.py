import time

import pytest

from actions import services
from actions.models import QuickAction
from actions.tasks import run_quick_action
from tests.actions.fake_platform import Reply

RESTART_PATH = "/v1/customers/cust-123/agents/WowMemory/restart"


def request_restart(customer, operator):
    return services.quick_action_request(
        customer=customer,
        kind=QuickAction.Kind.RESTART_AGENT,
        params={"agent": "WowMemory"},
        reason="Resolving timeout issue",
        requested_by=operator,
    )


def test_task_runs_after_commit(
    customer, operator, fake_platform, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = request_restart(customer, operator)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 1


def test_task_twice_calls_platform_once(customer, operator, fake_platform):
    action = request_restart(customer, operator)

    run_quick_action.delay(action.pk)
    run_quick_action.delay(action.pk)

    assert len(fake_platform.calls("POST", RESTART_PATH)) == 1


def test_task_exhausts_retries_then_fails(customer, operator, fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(503, {"error": "Restart failed"}))
    action = request_restart(customer, operator)

    run_quick_action.delay(action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.attempts == 4
    assert action.error.endswith(
        "Try again in a minute; if it fails again, escalate to engineering."
    )
    # Four task attempts of three client attempts each.
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 12


@pytest.mark.redis
def test_worker_runs_action_via_redis(
    transactional_db, customer, operator, fake_platform, monkeypatch, request
):
    monkeypatch.setenv("PLATFORM_API_URL", fake_platform.url)
    monkeypatch.setenv("PLATFORM_API_TOKEN", "test-platform-token")
    request.getfixturevalue("celery_worker_process")

    action = request_restart(customer, operator)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        action.refresh_from_db()
        if action.is_finished:
            break
        time.sleep(0.2)
    assert action.status == QuickAction.Status.SUCCEEDED
    assert action.result["summary"] == "WowMemory restarted for customer cust-123; it is RUNNING."
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 1
