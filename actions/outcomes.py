"""Execution of one quick action against the platform, turned into an outcome for its row.

Every failure outcome carries what the operator can try next, because the action page is where
the operator decides the next move.
"""

import logging
import time
from dataclasses import dataclass, field

from actions import selectors
from actions.models import QuickAction
from actions.platform_client import (
    PlatformClient,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
)

logger = logging.getLogger(__name__)

# After the platform accepts a retry, how long to watch the workflow and how often to look.
RETRY_WATCH_SECONDS = 10.0
RETRY_POLL_INTERVAL_SECONDS = 0.5

NEXT_STEP_AFTER_ERROR = "Escalate to engineering with this action id if it happens again."


@dataclass
class Outcome:
    status: str
    result: dict = field(default_factory=dict)
    error: str = ""


def trim_period(text: str) -> str:
    return text.rstrip(". ")


def failed(message: str, next_step: str, *, platform: dict | None = None) -> Outcome:
    """Build a failure whose error states what failed and then what to try next."""
    message = f"{trim_period(message)}."
    result = {"summary": message, "next_step": next_step}
    if platform is not None:
        result["platform"] = platform
    return Outcome(QuickAction.Status.FAILED, result, f"{message} {next_step}")


def restart_execute(*, action: QuickAction, client: PlatformClient) -> Outcome:
    """Restart the agent; PlatformUnavailable propagates so that the caller can retry."""
    agent = action.params["agent"]
    customer_id = action.customer.customer_id
    try:
        body = client.agent_restart(customer_id=customer_id, agent=agent, reason=action.reason)
    except PlatformRejected as error:
        return restart_rejected(agent=agent, customer_id=customer_id, error=error)

    summary = f"{agent} restarted for customer {customer_id}; it is {body.get('status', '?')}."
    return Outcome(QuickAction.Status.SUCCEEDED, {"summary": summary, "platform": body})


def restart_rejected(*, agent: str, customer_id: str, error: PlatformRejected) -> Outcome:
    if error.status_code == 404:
        return failed(
            f"The platform does not run {agent} for customer {customer_id}: "
            f"{trim_period(error.platform_message)}.",
            "Check the agent name on the customer overview.",
        )
    if error.status_code == 409:
        return failed(
            f"{agent} is already restarting for customer {customer_id}: "
            f"{trim_period(error.platform_message)}.",
            f"Wait a minute and check {agent}'s status on the overview before trying again.",
        )
    return failed(f"Restart of {agent} was rejected. {error.message}", NEXT_STEP_AFTER_ERROR)


def restart_unavailable(*, action: QuickAction, error: PlatformError) -> Outcome:
    return failed(
        f"Restart of {action.params['agent']} failed: {error.detail}",
        "Try again in a minute; if it fails again, escalate to engineering.",
    )


def retry_execute(*, action: QuickAction, client: PlatformClient) -> Outcome:
    """Ask the platform to retry the workflow, then watch it for RETRY_WATCH_SECONDS."""
    workflow_id = action.params["workflow_id"]
    from_step = action.params["from_step"]
    try:
        accepted = client.workflow_retry(workflow_id=workflow_id, from_step=from_step)
    except PlatformRejected as error:
        return retry_rejected(workflow_id=workflow_id, error=error)

    return retry_watch(
        action=action,
        client=client,
        workflow_id=workflow_id,
        from_step=from_step,
        accepted=accepted,
    )


def retry_rejected(*, workflow_id: str, error: PlatformRejected) -> Outcome:
    platform_message = trim_period(error.platform_message)
    if error.status_code == 404:
        return failed(
            f"The platform does not know workflow {workflow_id}: {platform_message}.",
            "Check the workflow id on the customer overview.",
        )
    if error.status_code == 409:
        return failed(
            f"The platform refused to retry workflow {workflow_id}: {platform_message}.",
            "Reload the overview: the workflow may have completed or moved. "
            "Retry from its current step or an earlier one.",
        )
    if error.status_code == 422:
        return failed(
            f"The platform rejected the step: {platform_message}.",
            "Choose a step between 1 and the workflow's current step.",
        )
    return failed(f"Retry of {workflow_id} was rejected. {error.message}", NEXT_STEP_AFTER_ERROR)


def retry_unavailable(*, action: QuickAction, error: PlatformError) -> Outcome:
    return failed(
        f"Retry of workflow {action.params['workflow_id']} failed: {error.detail}",
        "Try again in a minute; if it fails again, escalate to engineering.",
    )


def retry_watch(
    *,
    action: QuickAction,
    client: PlatformClient,
    workflow_id: str,
    from_step: int,
    accepted: dict,
) -> Outcome:
    """Poll the workflow until it passes from_step, completes or fails again, or time runs out."""
    deadline = time.monotonic() + RETRY_WATCH_SECONDS
    state = accepted
    verdict = "running"
    while verdict == "running" and time.monotonic() < deadline:
        time.sleep(RETRY_POLL_INTERVAL_SECONDS)
        try:
            state = client.workflow_get(workflow_id=workflow_id)
        except PlatformError as error:
            # The retry itself was accepted, so a failed status read must not make the task
            # send the retry again.
            logger.warning(
                "Workflow status read failed after retry",
                extra={
                    "action_id": action.action_id,
                    "workflow_id": workflow_id,
                    "error": error.message,
                },
            )
            return retry_unconfirmed(workflow_id=workflow_id, accepted=accepted, error=error)
        verdict = retry_verdict(state=state, from_step=from_step)

    return retry_outcome(action=action, verdict=verdict, state=state, accepted=accepted)


def retry_verdict(*, state: dict, from_step: int) -> str:
    status = state.get("status")
    if status == "COMPLETED":
        return "completed"
    if status in ("STUCK", "FAILED"):
        return "failed_again"
    if int(state.get("current_step") or 0) > from_step:
        return "progressed"
    return "running"


def retry_outcome(*, action: QuickAction, verdict: str, state: dict, accepted: dict) -> Outcome:
    workflow_id = action.params["workflow_id"]
    from_step = action.params["from_step"]
    step_text = f"step {state.get('current_step')} of {state.get('total_steps')}"
    platform = {"accepted": accepted, "workflow": state}

    if verdict == "failed_again":
        step = int(state.get("current_step") or from_step)
        agent = selectors.failing_agent_name(trial_id=workflow_id, step=step)
        agent_text = agent or f"the agent that runs step {step}"
        detail = str(state.get("detail") or state.get("status")).rstrip(".")
        return failed(
            f"The step failed again: {detail}.",
            f"Restart {agent_text} first, then retry.",
            platform=platform,
        )

    summaries = {
        "completed": f"Workflow {workflow_id} completed after the retry from step {from_step}.",
        "progressed": f"Workflow {workflow_id} passed step {from_step}; it is at {step_text}.",
        "running": (
            f"The platform accepted the retry, but after {RETRY_WATCH_SECONDS:g} s workflow "
            f"{workflow_id} is still at {step_text}. Watch the trial on the customer overview."
        ),
    }
    result = {"summary": summaries[verdict], "outcome": verdict, "platform": platform}
    return Outcome(QuickAction.Status.SUCCEEDED, result)


def retry_unconfirmed(*, workflow_id: str, accepted: dict, error: PlatformError) -> Outcome:
    summary = (
        f"The platform accepted the retry of workflow {workflow_id}, but its status could not be "
        f"read afterwards ({error.detail}). Watch the trial on the customer overview."
    )
    result = {"summary": summary, "outcome": "unconfirmed", "platform": {"accepted": accepted}}
    return Outcome(QuickAction.Status.SUCCEEDED, result)


EXECUTORS = {
    QuickAction.Kind.RESTART_AGENT: restart_execute,
    QuickAction.Kind.RETRY_WORKFLOW: retry_execute,
}
UNAVAILABLE_OUTCOMES = {
    QuickAction.Kind.RESTART_AGENT: restart_unavailable,
    QuickAction.Kind.RETRY_WORKFLOW: retry_unavailable,
}


def action_execute(*, action: QuickAction, client: PlatformClient) -> Outcome:
    """Run the action's platform calls.

    Raises PlatformUnavailable when the platform cannot be reached, so that the caller decides
    whether another attempt is allowed. Other platform errors become failure outcomes.
    """
    try:
        return EXECUTORS[action.kind](action=action, client=client)
    except PlatformUnavailable:
        raise
    except PlatformError as error:
        # A response outside the contract, such as a 500, will not change if the call is repeated.
        return failed(error.detail, NEXT_STEP_AFTER_ERROR)
