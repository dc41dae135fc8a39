"""Writes for quick actions: request (validate, store, enqueue) and run (call the platform).

A request is stored first and run by a Celery worker after commit, so a crash or a broker outage
delays an action but does not lose it. Running an action that is finished, or running in another
worker, does nothing. Every state change is a simple-history row that records who (the requesting
operator), when, why and with what result.
"""

import logging
import re
from datetime import timedelta
from functools import partial

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from actions import outcomes, selectors
from actions.models import QuickAction
from actions.platform_client import PlatformClient, PlatformUnavailable
from customers.models import Customer, Trial

logger = logging.getLogger(__name__)

MAX_REASON_LENGTH = 1000
# One first attempt plus the task's three retries.
DEFAULT_MAX_ATTEMPTS = 4
ESTIMATED_DURATION_SECONDS = {
    QuickAction.Kind.RESTART_AGENT: 10,
    QuickAction.Kind.RETRY_WORKFLOW: 15,
}
# Hard time limit of one run; the task enforces it.
RUN_TIME_LIMIT_SECONDS = 90
# A running action older than this lost its worker, because the time limit has long passed.
STALE_RUNNING_AFTER = timedelta(seconds=RUN_TIME_LIMIT_SECONDS + 60)
# A pending action older than this was probably never enqueued, for example during an outage.
STALE_PENDING_AFTER = timedelta(minutes=2)
STEP_PATTERN = re.compile(r"-?[0-9]+")
# simple-history stores the change reason in a 100-character column.
CHANGE_REASON_LENGTH = 100


def quick_action_request(
    *,
    customer: Customer,
    kind: str,
    params: dict,
    reason: str,
    requested_by: AbstractBaseUser,
) -> QuickAction:
    """Validate and store a quick action, and enqueue its run after the transaction commits.

    Raises ValidationError with a message per field (kind, agent, workflow_id, from_step,
    reason, or __all__ for a duplicate) that names the value and the fix.
    """
    errors: dict[str, str] = {}
    clean_params = quick_action_params_validate(
        customer=customer, kind=kind, params=params, errors=errors
    )
    clean_reason = reason_validate(reason=reason, errors=errors)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # Locking the customer row makes two operators who confirm at the same moment pass the
        # duplicate check one after the other.
        Customer.objects.select_for_update().only("pk").get(pk=customer.pk)
        duplicate_check(customer=customer, kind=kind, params=clean_params)

        action = QuickAction(
            customer=customer,
            kind=kind,
            params=clean_params,
            reason=clean_reason,
            requested_by=requested_by,
        )
        audit_set(action, "Requested")
        action.save()
        transaction.on_commit(partial(quick_action_enqueue, action_pk=action.pk))

    logger.info(
        "Quick action requested",
        extra={
            "action_id": action.action_id,
            "customer_id": customer.customer_id,
            "kind": kind,
            "user_id": requested_by.pk,
        },
    )
    return action


def quick_action_params_validate(
    *, customer: Customer, kind: str, params: dict, errors: dict[str, str]
) -> dict:
    """Return the params in canonical form, adding a message to errors for each bad value."""
    if kind == QuickAction.Kind.RESTART_AGENT:
        return agent_params_validate(customer=customer, params=params, errors=errors)
    if kind == QuickAction.Kind.RETRY_WORKFLOW:
        return workflow_params_validate(customer=customer, params=params, errors=errors)
    errors["kind"] = f"Unknown action kind {kind!r}; use restart_agent or retry_workflow."
    return {}


def agent_params_validate(*, customer: Customer, params: dict, errors: dict[str, str]) -> dict:
    agent = str(params.get("agent") or "").strip()
    assigned = selectors.agent_names_for_customer(customer=customer)
    choices = ", ".join(assigned) or "none reported yet"

    if not agent:
        errors["agent"] = (
            f"Choose the agent to restart. Agents of customer {customer.customer_id}: {choices}."
        )
    elif agent not in assigned and not selectors.agent_is_known(name=agent):
        errors["agent"] = (
            f"Agent {agent!r} is not known for customer {customer.customer_id}. "
            f"Choose one of: {choices}."
        )
    return {"agent": agent}


def workflow_params_validate(*, customer: Customer, params: dict, errors: dict[str, str]) -> dict:
    workflow_id = str(params.get("workflow_id") or "").strip()
    trial = selectors.trial_get_for_customer(customer=customer, trial_id=workflow_id)
    if trial is None:
        trial_ids = ", ".join(selectors.trial_ids_for_customer(customer=customer)) or "none"
        errors["workflow_id"] = (
            f"Workflow {workflow_id!r} is not a trial of customer {customer.customer_id}. "
            f"Choose one of: {trial_ids}."
        )
        return {"workflow_id": workflow_id, "from_step": params.get("from_step")}

    from_step = from_step_validate(trial=trial, value=params.get("from_step"), errors=errors)
    return {"workflow_id": workflow_id, "from_step": from_step}


def from_step_validate(*, trial: Trial, value: object, errors: dict[str, str]) -> int | None:
    step_range = f"between 1 and {trial.current_step}"
    step = step_parse(value)
    if step is None:
        errors["from_step"] = f"Step {value!r} is not a whole number; enter a step {step_range}."
        return None

    if trial.status == Trial.Status.COMPLETED:
        errors["workflow_id"] = f"Workflow {trial.trial_id} is completed; nothing to retry."
    elif not 1 <= step <= trial.total_steps:
        errors["from_step"] = (
            f"Step {step} is outside workflow {trial.trial_id}, which has {trial.total_steps} "
            f"steps; enter a step {step_range}."
        )
    elif step > trial.current_step:
        errors["from_step"] = (
            f"Step {step} is after the current step {trial.current_step} of workflow "
            f"{trial.trial_id}; enter a step {step_range}."
        )
    return step


def step_parse(value: object) -> int | None:
    """Return the step as an int, or None unless value is an int or an integer in ASCII digits.

    Booleans are rejected although Python counts them as ints, and so are "7.0" and digits of
    other scripts, which int() would accept.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not STEP_PATTERN.fullmatch(text):
        return None
    return int(text)


def reason_validate(*, reason: str | None, errors: dict[str, str]) -> str:
    clean_reason = (reason or "").strip()
    if not clean_reason:
        errors["reason"] = "A reason is required: say why this action is needed, for the audit."
    elif len(clean_reason) > MAX_REASON_LENGTH:
        errors["reason"] = (
            f"The reason has {len(clean_reason)} characters; shorten it to at most "
            f"{MAX_REASON_LENGTH}."
        )
    return clean_reason


def duplicate_check(*, customer: Customer, kind: str, params: dict) -> None:
    """Raise ValidationError when an action of this kind on the same target is still open.

    The target is the agent, or the workflow whatever the step: two retries of one workflow at
    once would race each other on the platform.
    """
    target_key = "agent" if kind == QuickAction.Kind.RESTART_AGENT else "workflow_id"
    for open_action in selectors.quick_action_open_for_customer(customer=customer, kind=kind):
        if open_action.params.get(target_key) == params[target_key]:
            raise ValidationError(
                {
                    "__all__": (
                        f"{quick_action_label(open_action)} is already {open_action.status} as "
                        f"{open_action.action_id}; wait for it to finish before asking again."
                    )
                }
            )


def quick_action_label(action: QuickAction) -> str:
    customer_id = action.customer.customer_id
    if action.kind == QuickAction.Kind.RESTART_AGENT:
        return f"Restart of {action.params.get('agent')} for customer {customer_id}"
    return (
        f"Retry of workflow {action.params.get('workflow_id')} from step "
        f"{action.params.get('from_step')} for customer {customer_id}"
    )


def quick_action_enqueue(*, action_pk: int) -> None:
    """Send the run task; a broker outage leaves the action pending for the requeue sweep."""
    from actions.tasks import run_quick_action

    try:
        run_quick_action.delay(action_pk)
    except BrokerError:
        logger.exception(
            "Quick action enqueue failed; it stays pending", extra={"action_pk": action_pk}
        )


def quick_action_run(*, action_pk: int, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
    """Run one attempt of a stored action; does nothing for a finished or running action.

    Raises PlatformUnavailable, with the row back in pending, while attempts remain, so that the
    task retries later. The last attempt records the failure instead.
    """
    action = run_start(action_pk=action_pk)
    if action is None:
        return

    client = PlatformClient.from_settings(log_context={"action_id": action.action_id})
    try:
        outcome = outcomes.action_execute(action=action, client=client)
    except PlatformUnavailable as error:
        if action.attempts < max_attempts:
            run_requeue(action_pk=action_pk, error=error.detail)
            raise
        outcome = outcomes.UNAVAILABLE_OUTCOMES[action.kind](action=action, error=error)

    run_finish(action_pk=action_pk, outcome=outcome)


def run_start(*, action_pk: int) -> QuickAction | None:
    """Mark a pending action running and return it, or return None when there is nothing to do."""
    with transaction.atomic():
        action = (
            QuickAction.objects.select_for_update(of=("self",))
            .select_related("customer", "requested_by")
            .filter(pk=action_pk)
            .first()
        )
        if action is None:
            logger.warning("Quick action not found; skipping", extra={"action_pk": action_pk})
            return None
        log_extra = {"action_id": action.action_id, "status": action.status}
        if action.is_finished:
            logger.info("Quick action already finished; skipping", extra=log_extra)
            return None
        if action.status == QuickAction.Status.RUNNING:
            running_abandoned_fail(action=action)
            return None

        now = timezone.now()
        action.status = QuickAction.Status.RUNNING
        action.attempts += 1
        action.started_at = action.started_at or now
        action.error = ""
        audit_set(action, f"Started, attempt {action.attempts}")
        action.save(update_fields=["status", "attempts", "started_at", "error"])

    logger.info("Quick action started", extra={**log_extra, "attempt": action.attempts})
    return action


def running_abandoned_fail(*, action: QuickAction) -> None:
    """Leave a running action to its worker, unless that worker died long ago.

    Caller holds the row lock. The platform call of a dead worker may or may not have happened,
    so the action fails and the operator checks instead of the product repeating the call.
    """
    log_extra = {"action_id": action.action_id, "started_at": action.started_at}
    if action.started_at and timezone.now() - action.started_at < STALE_RUNNING_AFTER:
        logger.info("Quick action running in another worker; skipping", extra=log_extra)
        return

    logger.warning("Quick action abandoned by its worker; failing it", extra=log_extra)
    outcome = outcomes.failed(
        "The worker running this action stopped before it recorded a result.",
        "Check the agent or workflow status on the customer overview before trying again.",
    )
    outcome_save(action=action, outcome=outcome)


def run_requeue(*, action_pk: int, error: str) -> None:
    with transaction.atomic():
        action = QuickAction.objects.select_for_update().get(pk=action_pk)
        action.status = QuickAction.Status.PENDING
        action.error = f"Attempt {action.attempts} failed, retrying soon: {error}"
        audit_set(action, f"Attempt {action.attempts} failed; will retry")
        action.save(update_fields=["status", "error"])

    logger.warning(
        "Quick action attempt failed; will retry",
        extra={"action_id": action.action_id, "attempt": action.attempts, "error": error},
    )


def run_finish(*, action_pk: int, outcome: outcomes.Outcome) -> None:
    with transaction.atomic():
        action = QuickAction.objects.select_for_update().get(pk=action_pk)
        if action.status != QuickAction.Status.RUNNING:
            logger.warning(
                "Quick action no longer running; result dropped",
                extra={"action_id": action.action_id, "status": action.status},
            )
            return
        outcome_save(action=action, outcome=outcome)


def outcome_save(*, action: QuickAction, outcome: outcomes.Outcome) -> None:
    """Record a final outcome on the action; caller holds the row lock."""
    action.status = outcome.status
    action.result = outcome.result
    action.error = outcome.error
    action.finished_at = timezone.now()
    label = "Succeeded" if outcome.status == QuickAction.Status.SUCCEEDED else "Failed"
    audit_set(action, f"{label}: {outcome.result.get('summary', '')}")
    action.save(update_fields=["status", "result", "error", "finished_at"])

    logger.info(
        "Quick action finished",
        extra={"action_id": action.action_id, "status": action.status, "error": action.error},
    )


def quick_action_fail(*, action_pk: int, error: str) -> None:
    """Fail an unfinished action after the task itself failed, for example on a time limit."""
    with transaction.atomic():
        action = QuickAction.objects.select_for_update().filter(pk=action_pk).first()
        if action is None or action.is_finished:
            return
        outcome = outcomes.failed(
            f"The action stopped unexpectedly: {error}.",
            "Check the agent or workflow status on the customer overview before trying again; "
            "escalate to engineering if it repeats.",
        )
        outcome_save(action=action, outcome=outcome)


def quick_actions_requeue_stale() -> int:
    """Enqueue pending actions that waited too long and fail running ones whose worker died.

    Returns how many actions were enqueued. Runs from Celery beat. Enqueuing an action twice is
    harmless because a run skips an action that is running or finished.
    """
    now = timezone.now()
    pending_pks = list(
        QuickAction.objects.filter(
            status=QuickAction.Status.PENDING, requested_at__lt=now - STALE_PENDING_AFTER
        ).values_list("pk", flat=True)
    )
    for action_pk in pending_pks:
        quick_action_enqueue(action_pk=action_pk)

    abandoned_pks = QuickAction.objects.filter(
        status=QuickAction.Status.RUNNING, started_at__lt=now - STALE_RUNNING_AFTER
    ).values_list("pk", flat=True)
    for action_pk in abandoned_pks:
        run_start(action_pk=action_pk)

    logger.info("Stale quick actions requeued", extra={"requeued": len(pending_pks)})
    return len(pending_pks)


def audit_set(action: QuickAction, change_reason: str) -> None:
    """Attribute the next history row to the requesting operator, with a short reason."""
    action._history_user = action.requested_by
    action._change_reason = change_reason[:CHANGE_REASON_LENGTH]
