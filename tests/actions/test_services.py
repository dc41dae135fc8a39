from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from actions import services
from actions.models import QuickAction
from actions.platform_client import PlatformUnavailable
from customers.models import Trial
from telemetry.models import Interaction
from tests.actions.fake_platform import Reply
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    InteractionFactory,
    QuickActionFactory,
    TrialFactory,
)

RESTART_PATH = "/v1/customers/cust-123/agents/WowMemory/restart"
RETRY_PATH = "/v1/workflows/trial-wf-12345/retry"
WORKFLOW_PATH = "/v1/workflows/trial-wf-12345"


def request_restart(customer, operator, agent="WowMemory", reason="Resolving timeout issue"):
    return services.quick_action_request(
        customer=customer,
        kind=QuickAction.Kind.RESTART_AGENT,
        params={"agent": agent},
        reason=reason,
        requested_by=operator,
    )


def request_retry(customer, operator, from_step=7, workflow_id="trial-wf-12345"):
    return services.quick_action_request(
        customer=customer,
        kind=QuickAction.Kind.RETRY_WORKFLOW,
        params={"workflow_id": workflow_id, "from_step": from_step},
        reason="Agent restarted",
        requested_by=operator,
    )


def rejection(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


# --- Request ------------------------------------------------------------------------------------


def test_request_stores_pending_and_enqueues(
    customer, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        action = request_restart(customer, operator, reason="  Resolving timeout issue \n")

    action.refresh_from_db()
    assert action.action_id.startswith("act-")
    assert action.status == QuickAction.Status.PENDING
    assert action.params == {"agent": "WowMemory"}
    assert action.reason == "Resolving timeout issue"
    assert action.requested_by == operator
    assert len(callbacks) == 1


def test_request_accepts_known_unassigned_agent(customer, operator):
    AgentFactory(name="WowSandbox")

    action = request_restart(customer, operator, agent="WowSandbox")

    assert action.params == {"agent": "WowSandbox"}


def test_request_rejects_unknown_agent(customer, operator):
    errors = rejection(lambda: request_restart(customer, operator, agent="WowGhost"))

    assert errors == {
        "agent": [
            "Agent 'WowGhost' is not known for customer cust-123. Choose one of: WowAPI, "
            "WowCache, WowDomain, WowMemory, WowOrchestrator."
        ]
    }
    assert QuickAction.objects.count() == 0


def test_request_rejects_missing_agent(customer, operator):
    errors = rejection(lambda: request_restart(customer, operator, agent=" "))

    assert errors["agent"] == [
        "Choose the agent to restart. Agents of customer cust-123: WowAPI, WowCache, WowDomain, "
        "WowMemory, WowOrchestrator."
    ]


def test_request_rejects_other_customers_workflow(customer, operator):
    TrialFactory(trial_id="trial-wf-999", customer=CustomerFactory(customer_id="cust-456"))

    errors = rejection(lambda: request_retry(customer, operator, workflow_id="trial-wf-999"))

    assert errors == {
        "workflow_id": [
            "Workflow 'trial-wf-999' is not a trial of customer cust-123. "
            "Choose one of: trial-wf-12345."
        ]
    }


@pytest.mark.parametrize(
    ("from_step", "message"),
    [
        ("seven", "Step 'seven' is not a whole number; enter a step between 1 and 7."),
        (None, "Step None is not a whole number; enter a step between 1 and 7."),
        (
            0,
            "Step 0 is outside workflow trial-wf-12345, which has 15 steps; "
            "enter a step between 1 and 7.",
        ),
        (
            16,
            "Step 16 is outside workflow trial-wf-12345, which has 15 steps; "
            "enter a step between 1 and 7.",
        ),
        (
            8,
            "Step 8 is after the current step 7 of workflow trial-wf-12345; "
            "enter a step between 1 and 7.",
        ),
    ],
)
def test_request_rejects_bad_from_step(customer, operator, from_step, message):
    errors = rejection(lambda: request_retry(customer, operator, from_step=from_step))

    assert errors == {"from_step": [message]}
    assert QuickAction.objects.count() == 0


def test_request_accepts_step_as_text(customer, operator):
    action = request_retry(customer, operator, from_step="3")

    assert action.params == {"workflow_id": "trial-wf-12345", "from_step": 3}


def test_request_rejects_completed_workflow(customer, operator):
    Trial.objects.filter(trial_id="trial-wf-12345").update(
        status=Trial.Status.COMPLETED, current_step=15
    )

    errors = rejection(lambda: request_retry(customer, operator))

    assert errors == {"workflow_id": ["Workflow trial-wf-12345 is completed; nothing to retry."]}


@pytest.mark.parametrize("reason", ["", "   \n ", None])
def test_request_requires_reason(customer, operator, reason):
    errors = rejection(lambda: request_restart(customer, operator, reason=reason))

    assert errors == {
        "reason": ["A reason is required: say why this action is needed, for the audit."]
    }


def test_request_rejects_long_reason(customer, operator):
    errors = rejection(lambda: request_restart(customer, operator, reason="x" * 1001))

    assert errors == {"reason": ["The reason has 1001 characters; shorten it to at most 1000."]}


def test_request_accepts_maximum_reason(customer, operator):
    action = request_restart(customer, operator, reason=" " + "x" * 1000 + " ")

    assert len(action.reason) == 1000


def test_request_reports_every_bad_field(customer, operator):
    errors = rejection(
        lambda: services.quick_action_request(
            customer=customer,
            kind=QuickAction.Kind.RETRY_WORKFLOW,
            params={"workflow_id": "trial-wf-12345", "from_step": 9},
            reason="",
            requested_by=operator,
        )
    )

    assert sorted(errors) == ["from_step", "reason"]


def test_request_rejects_unknown_kind(customer, operator):
    errors = rejection(
        lambda: services.quick_action_request(
            customer=customer, kind="clear_cache", params={}, reason="r", requested_by=operator
        )
    )

    assert errors == {
        "kind": ["Unknown action kind 'clear_cache'; use restart_agent or retry_workflow."]
    }


@pytest.mark.parametrize("status", [QuickAction.Status.PENDING, QuickAction.Status.RUNNING])
def test_request_rejects_open_duplicate(customer, operator, status):
    first = request_restart(customer, operator)
    QuickAction.objects.filter(pk=first.pk).update(status=status)

    errors = rejection(lambda: request_restart(customer, operator))

    assert errors == {
        "__all__": [
            f"Restart of WowMemory for customer cust-123 is already {status} as "
            f"{first.action_id}; wait for it to finish before asking again."
        ]
    }
    assert QuickAction.objects.count() == 1


def test_request_rejects_second_retry_any_step(customer, operator):
    request_retry(customer, operator, from_step=7)

    errors = rejection(lambda: request_retry(customer, operator, from_step=6))

    assert list(errors) == ["__all__"]


def test_request_allows_repeat_after_finish(customer, operator):
    first = request_restart(customer, operator)
    QuickAction.objects.filter(pk=first.pk).update(status=QuickAction.Status.FAILED)

    second = request_restart(customer, operator)

    assert second.pk != first.pk


def test_request_allows_other_agent(customer, operator):
    request_restart(customer, operator, agent="WowMemory")

    other = request_restart(customer, operator, agent="WowCache")

    assert other.params == {"agent": "WowCache"}


# --- Run ----------------------------------------------------------------------------------------


def test_restart_run_succeeds(customer, operator, fake_platform):
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert action.error == ""
    assert action.attempts == 1
    assert action.started_at is not None
    assert action.finished_at is not None
    assert action.result["summary"] == "WowMemory restarted for customer cust-123; it is RUNNING."
    assert action.result["platform"]["duration_ms"] == 4800
    [call] = fake_platform.calls("POST", RESTART_PATH)
    assert call.body == {"reason": "Resolving timeout issue"}


def test_run_twice_calls_platform_once(customer, operator, fake_platform):
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk)
    services.quick_action_run(action_pk=action.pk)

    assert len(fake_platform.calls("POST", RESTART_PATH)) == 1
    action.refresh_from_db()
    assert action.attempts == 1


def test_run_skips_action_running_elsewhere(customer, operator, fake_platform):
    action = request_restart(customer, operator)
    QuickAction.objects.filter(pk=action.pk).update(
        status=QuickAction.Status.RUNNING, started_at=timezone.now()
    )

    services.quick_action_run(action_pk=action.pk)

    assert fake_platform.requests == []
    action.refresh_from_db()
    assert action.status == QuickAction.Status.RUNNING


def test_run_fails_abandoned_running_action(customer, operator, fake_platform):
    action = request_restart(customer, operator)
    QuickAction.objects.filter(pk=action.pk).update(
        status=QuickAction.Status.RUNNING, started_at=timezone.now() - timedelta(minutes=10)
    )

    services.quick_action_run(action_pk=action.pk)

    assert fake_platform.requests == []
    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        "The worker running this action stopped before it recorded a result. Check the agent or "
        "workflow status on the customer overview before trying again."
    )


def test_run_missing_action_does_nothing(db, fake_platform):
    services.quick_action_run(action_pk=987654)

    assert fake_platform.requests == []


def test_restart_conflict_fails_with_advice(customer, operator, fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(409, {"error": "Agent is already restarting"}))
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        "WowMemory is already restarting for customer cust-123: Agent is already restarting. "
        "Wait a minute and check WowMemory's status on the overview before trying again."
    )
    assert action.result["next_step"] == (
        "Wait a minute and check WowMemory's status on the overview before trying again."
    )


def test_restart_not_found_fails(customer, operator, fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(404, {"error": "Unknown agent"}))
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        "The platform does not run WowMemory for customer cust-123: Unknown agent. "
        "Check the agent name on the customer overview."
    )


def test_restart_transient_failure_requeues(customer, operator, fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(503, {"error": "Restart failed"}))
    action = request_restart(customer, operator)

    with pytest.raises(PlatformUnavailable):
        services.quick_action_run(action_pk=action.pk, max_attempts=2)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.PENDING
    assert action.attempts == 1
    assert action.error == (
        f"Attempt 1 failed, retrying soon: The platform returned 503 for POST {RESTART_PATH}: "
        "Restart failed"
    )


def test_restart_last_attempt_fails_with_advice(customer, operator, fake_platform):
    fake_platform.script("POST", RESTART_PATH, Reply(503, {"error": "Restart failed"}))
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk, max_attempts=1)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        f"Restart of WowMemory failed: The platform returned 503 for POST {RESTART_PATH}: "
        "Restart failed. Try again in a minute; if it fails again, escalate to engineering."
    )


def test_restart_timeout_advice_given_once(customer, operator, fake_platform):
    fake_platform.script("POST", RESTART_PATH, *[Reply(200, {"status": "RUNNING"}, delay=1.0)] * 3)
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk, max_attempts=1)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        f"Restart of WowMemory failed: The platform did not respond to POST {RESTART_PATH} "
        "within 0.5 s; it may be overloaded. "
        "Try again in a minute; if it fails again, escalate to engineering."
    )
    assert action.error.lower().count("try again in a minute") == 1


def test_retry_unreachable_advice_given_once(customer, operator, fake_platform, settings):
    settings.PLATFORM_API_URL = "http://127.0.0.1:9"
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk, max_attempts=1)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        "Retry of workflow trial-wf-12345 failed: The platform control API at "
        "http://127.0.0.1:9 could not be reached (ConnectionError); check that the platform "
        "is up. Try again in a minute; if it fails again, escalate to engineering."
    )


def test_restart_503_then_success_succeeds(customer, operator, fake_platform):
    fake_platform.script(
        "POST",
        RESTART_PATH,
        Reply(503, {"error": "Restart failed"}),
        Reply(200, {"customer_id": "cust-123", "agent": "WowMemory", "status": "RUNNING"}),
    )
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert len(fake_platform.calls("POST", RESTART_PATH)) == 2


def test_retry_run_completes(customer, operator, fake_platform):
    fake_platform.script(
        "GET",
        WORKFLOW_PATH,
        Reply(200, {"status": "RUNNING", "current_step": 7, "total_steps": 15}),
        Reply(200, {"status": "COMPLETED", "current_step": 15, "total_steps": 15}),
    )
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert action.result["outcome"] == "completed"
    assert action.result["summary"] == (
        "Workflow trial-wf-12345 completed after the retry from step 7."
    )
    [call] = fake_platform.calls("POST", RETRY_PATH)
    assert call.body == {"from_step": 7}
    assert len(fake_platform.calls("GET", WORKFLOW_PATH)) == 2


def test_retry_run_passes_step(customer, operator, fake_platform):
    fake_platform.script(
        "GET",
        WORKFLOW_PATH,
        Reply(200, {"status": "RUNNING", "current_step": 8, "total_steps": 15}),
    )
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert action.result["outcome"] == "progressed"
    assert action.result["summary"] == (
        "Workflow trial-wf-12345 passed step 7; it is at step 8 of 15."
    )


def test_retry_stuck_again_names_agent(customer, operator, fake_platform):
    trial = Trial.objects.get(trial_id="trial-wf-12345")
    InteractionFactory(
        customer=customer,
        agent=AgentFactory(name="WowMemory"),
        trial=trial,
        workflow_step=7,
        operation="retrieve_context",
        status=Interaction.Status.TIMEOUT,
    )
    fake_platform.script(
        "GET",
        WORKFLOW_PATH,
        Reply(200, {"status": "STUCK", "current_step": 7, "total_steps": 15,
                    "detail": "Database connection timeout after 30s"}),
    )  # fmt: skip
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        "The step failed again: Database connection timeout after 30s. "
        "Restart WowMemory first, then retry."
    )


def test_retry_still_running_after_watch(customer, operator, fake_platform):
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert action.result["outcome"] == "running"
    assert action.result["summary"] == (
        "The platform accepted the retry, but after 0.5 s workflow trial-wf-12345 is still at "
        "step 7 of 15. Watch the trial on the customer overview."
    )


def test_retry_conflict_fails_with_advice(customer, operator, fake_platform):
    fake_platform.script("POST", RETRY_PATH, Reply(409, {"error": "Workflow is completed"}))
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error == (
        "The platform refused to retry workflow trial-wf-12345: Workflow is completed. "
        "Reload the overview: the workflow may have completed or moved. "
        "Retry from its current step or an earlier one."
    )
    assert fake_platform.calls("GET", WORKFLOW_PATH) == []


def test_retry_unreadable_status_still_succeeds(customer, operator, fake_platform):
    fake_platform.script("GET", WORKFLOW_PATH, Reply(503, {"error": "Busy"}))
    action = request_retry(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert action.result["outcome"] == "unconfirmed"
    assert len(fake_platform.calls("POST", RETRY_PATH)) == 1


# --- Audit --------------------------------------------------------------------------------------


def test_audit_records_each_state(customer, operator, fake_platform):
    action = request_restart(customer, operator)

    services.quick_action_run(action_pk=action.pk)

    records = list(action.history.order_by("history_date", "history_id"))
    assert [record.status for record in records] == ["pending", "running", "succeeded"]
    assert [record.history_change_reason for record in records] == [
        "Requested",
        "Started, attempt 1",
        "Succeeded: WowMemory restarted for customer cust-123; it is RUNNING.",
    ]
    assert {record.history_user for record in records} == {operator}
    assert records[-1].reason == "Resolving timeout issue"


def test_fail_marks_unfinished_action(customer, operator):
    action = QuickActionFactory(customer=customer, requested_by=operator)

    services.quick_action_fail(action_pk=action.pk, error="SoftTimeLimitExceeded()")

    action.refresh_from_db()
    assert action.status == QuickAction.Status.FAILED
    assert action.error.startswith("The action stopped unexpectedly: SoftTimeLimitExceeded().")


def test_requeue_runs_old_pending_actions(customer, operator, fake_platform):
    action = request_restart(customer, operator)
    QuickAction.objects.filter(pk=action.pk).update(
        requested_at=timezone.now() - timedelta(minutes=5)
    )

    requeued = services.quick_actions_requeue_stale()

    assert requeued == 1
    action.refresh_from_db()
    assert action.status == QuickAction.Status.SUCCEEDED
