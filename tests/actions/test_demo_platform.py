"""Quick actions against the real demo platform, following the demo story end to end."""

import pytest

from actions import services
from actions.models import QuickAction
from tests.demo_platform.conftest import CONTROL_TOKEN

# Imported under their own names so that pytest finds the demo platform fixtures here.
from tests.demo_platform.conftest import helpdesk_sink as helpdesk_sink
from tests.demo_platform.conftest import platform as platform


@pytest.fixture
def demo_settings(settings, platform):
    settings.PLATFORM_API_URL = f"http://127.0.0.1:{platform.port}"
    settings.PLATFORM_API_TOKEN = CONTROL_TOKEN
    settings.PLATFORM_API_TIMEOUT_SECONDS = 5


def action_run(*, customer, operator, kind, params) -> QuickAction:
    action = services.quick_action_request(
        customer=customer, kind=kind, params=params, reason="Demo story", requested_by=operator
    )
    services.quick_action_run(action_pk=action.pk)
    action.refresh_from_db()
    return action


def test_story_retry_stuck_before_restart(customer, operator, demo_settings):
    action = action_run(
        customer=customer,
        operator=operator,
        kind=QuickAction.Kind.RETRY_WORKFLOW,
        params={"workflow_id": "trial-wf-12345", "from_step": 7},
    )

    assert action.status == QuickAction.Status.FAILED
    assert action.error.startswith("The step failed again: ")
    assert action.error.endswith(" first, then retry.")


def test_story_restart_then_retry(customer, operator, demo_settings):
    restart = action_run(
        customer=customer,
        operator=operator,
        kind=QuickAction.Kind.RESTART_AGENT,
        params={"agent": "WowMemory"},
    )
    retry = action_run(
        customer=customer,
        operator=operator,
        kind=QuickAction.Kind.RETRY_WORKFLOW,
        params={"workflow_id": "trial-wf-12345", "from_step": 7},
    )

    assert restart.status == QuickAction.Status.SUCCEEDED
    assert restart.result["platform"]["status"] == "RUNNING"
    assert retry.status == QuickAction.Status.SUCCEEDED
    assert retry.result["outcome"] in {"progressed", "completed"}
