"""Recovery: evidence that a diagnosed problem has cleared, and the steps already done.

Evidence older than a recovery must not keep a cause ongoing. An agent restarted after its
errors, later successful calls of the failing operation, a completed trial, a metric back under
its threshold and a resolved alert each show that the problem has cleared. Like the detectors,
this module reads only the evidence snapshot.
"""

from dataclasses import dataclass, field
from datetime import datetime

from diagnostics.baseline_detectors import (
    DEFAULT_METRIC_THRESHOLD,
    METRIC_LABELS,
    METRIC_THRESHOLDS,
    latest_readings,
)
from diagnostics.catalog import RESTART_AGENT, RETRY_WORKFLOW
from diagnostics.evidence import ActionRecord, EvidenceSnapshot, OperationStats, TrialState

# The span the platform emits for a restart of one customer's agent instance.
RESTART_OPERATION = "restart_agent"
ACTION_SUCCEEDED = "succeeded"
ACTION_FAILED = "failed"
COMPLETED = "COMPLETED"
COMPLETED_TRIALS_NAMED = 3


def clock(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"


@dataclass(frozen=True)
class RecoverySign:
    text: str
    observed_at: datetime


@dataclass
class Recovery:
    """Evidence that the agent's problem cleared, newest last."""

    agent: str
    signs: list[RecoverySign] = field(default_factory=list)
    restarted_at: datetime | None = None
    completed_trials: list[str] = field(default_factory=list)

    @property
    def recovered_at(self) -> datetime:
        return max(sign.observed_at for sign in self.signs)

    @property
    def summary(self) -> str:
        """Return one line such as "Resolved: WowMemory recovered after a restart at 12:14 UTC"."""
        agent = self.agent or "The platform"
        if self.restarted_at is not None:
            head = f"{agent} recovered after a restart at {clock(self.restarted_at)}"
        else:
            head = f"{agent} recovered at {clock(self.recovered_at)}"
        parts = [head]
        named = self.completed_trials[:COMPLETED_TRIALS_NAMED]
        if named:
            more = len(self.completed_trials) - len(named)
            trials = ", ".join(named) + (f" and {more} more" if more else "")
            parts.append(f"{trials} completed")
        return "Resolved: " + "; ".join(parts)

    def describe(self) -> dict:
        return {
            "summary": self.summary,
            "recovered_at": self.recovered_at.isoformat(),
            "restarted_at": self.restarted_at.isoformat() if self.restarted_at else None,
            "completed_trials": list(self.completed_trials),
            "evidence": [sign.text for sign in self.signs],
        }


# The problem's time span


def problem_operations(*, snapshot: EvidenceSnapshot, agent: str | None) -> list[OperationStats]:
    return [
        operation
        for operation in snapshot.operations
        if operation.agent == agent
        and operation.operation != RESTART_OPERATION
        and operation.last_problem_at is not None
    ]


def first_problem_at(*, snapshot: EvidenceSnapshot, agent: str | None) -> datetime | None:
    operations = problem_operations(snapshot=snapshot, agent=agent)
    return min((operation.first_problem_at for operation in operations), default=None)


def last_problem_at(*, snapshot: EvidenceSnapshot, agent: str | None) -> datetime | None:
    operations = problem_operations(snapshot=snapshot, agent=agent)
    return max((operation.last_problem_at for operation in operations), default=None)


def after(moment: datetime | None, since: datetime | None) -> bool:
    return moment is not None and (since is None or moment >= since)


# Restarts


def restarts_find(*, snapshot: EvidenceSnapshot, agent: str | None) -> list[RecoverySign]:
    """Return the agent's successful restarts for the customer after its first problem."""
    if not agent:
        return []
    since = first_problem_at(snapshot=snapshot, agent=agent)
    signs = [
        RecoverySign(
            text=f"{agent} restarted at {clock(action.finished_at)} by quick action "
            f"{action.action_id}" + (f" ({action.requested_by})" if action.requested_by else ""),
            observed_at=action.finished_at,
        )
        for action in snapshot.actions
        if action_restarts(action=action, agent=agent) and after(action.finished_at, since)
    ]
    if signs:
        return signs
    return [
        RecoverySign(
            text=f"{agent} restarted at {clock(operation.last_success_at)}",
            observed_at=operation.last_success_at,
        )
        for operation in snapshot.operations
        if operation.agent == agent
        and operation.operation == RESTART_OPERATION
        and after(operation.last_success_at, since)
    ]


def action_restarts(*, action: ActionRecord, agent: str) -> bool:
    return (
        action.kind == RESTART_AGENT
        and action.status == ACTION_SUCCEEDED
        and action.params.get("agent") == agent
    )


def restarted_at(*, snapshot: EvidenceSnapshot, agent: str | None) -> datetime | None:
    """Return the newest restart of the agent after its first problem, or None."""
    signs = restarts_find(snapshot=snapshot, agent=agent)
    return max((sign.observed_at for sign in signs), default=None)


def operation_recovered(*, operation: OperationStats, restart: datetime | None) -> bool:
    """Return whether a success or a restart came after the operation's last problem."""
    last_problem = operation.last_problem_at
    if last_problem is None:
        return True
    if operation.last_success_at is not None and operation.last_success_at > last_problem:
        return True
    return restart is not None and restart >= last_problem


# Recovery signs


def recovery_find(
    *,
    snapshot: EvidenceSnapshot,
    agent: str | None,
    metric_names: tuple[str, ...] = (),
) -> Recovery | None:
    """Return the signs that the agent's problem cleared, or None when there is none.

    The caller decides whether the problem is still ongoing; a sign only shows that some of the
    evidence came after the problem.
    """
    since = first_problem_at(snapshot=snapshot, agent=agent)
    restart = restarted_at(snapshot=snapshot, agent=agent)
    recovery = Recovery(agent=agent or "")

    last_problem = last_problem_at(snapshot=snapshot, agent=agent)
    if restart is not None and after(restart, last_problem):
        recovery.restarted_at = restart
        recovery.signs.extend(restarts_find(snapshot=snapshot, agent=agent)[-1:])
    recovery.signs.extend(operation_signs(snapshot=snapshot, agent=agent))
    trials = completed_trials(snapshot=snapshot, agent=agent, since=since)
    recovery.completed_trials = [trial.trial_id for trial in trials]
    recovery.signs.extend(
        RecoverySign(
            text=f"Workflow {trial.trial_id} completed at {clock(trial_end(trial))}",
            observed_at=trial_end(trial),
        )
        for trial in trials
    )
    recovery.signs.extend(
        metric_signs(snapshot=snapshot, agent=agent, metric_names=metric_names, since=since)
    )
    recovery.signs.extend(alert_signs(snapshot=snapshot, agent=agent, since=since))
    return recovery if recovery.signs else None


def operation_signs(*, snapshot: EvidenceSnapshot, agent: str | None) -> list[RecoverySign]:
    signs = []
    for operation in problem_operations(snapshot=snapshot, agent=agent):
        success = operation.last_success_at
        if success is None or success <= operation.last_problem_at:
            continue
        label = "timeout" if operation.timeouts else "failure"
        signs.append(
            RecoverySign(
                text=f"{operation.operation} calls to {operation.agent} succeed again: a "
                f"successful call at {clock(success)}, after the last {label} at "
                f"{clock(operation.last_problem_at)}",
                observed_at=success,
            )
        )
    return signs


def trial_end(trial: TrialState) -> datetime:
    return trial.completed_at or trial.last_activity_at


def completed_trials(
    *, snapshot: EvidenceSnapshot, agent: str | None, since: datetime | None
) -> list[TrialState]:
    """Return completed trials that the agent's problem touched, finished after it began."""
    touched = {
        call.workflow_id
        for call in snapshot.failed_calls
        if call.agent == agent and call.workflow_id
    }
    touched.update(
        str(action.params.get("workflow_id"))
        for action in snapshot.actions
        if action.kind == RETRY_WORKFLOW and action.params.get("workflow_id")
    )
    return [
        trial
        for trial in snapshot.trials
        if trial.status == COMPLETED
        and (trial.trial_id in touched or (agent and agent in trial.agents_involved))
        and since is not None
        and trial_end(trial) >= since
    ]


def metric_signs(
    *,
    snapshot: EvidenceSnapshot,
    agent: str | None,
    metric_names: tuple[str, ...],
    since: datetime | None,
) -> list[RecoverySign]:
    signs = []
    for (name, reading_agent), reading in latest_readings(snapshot).items():
        if reading_agent != agent or name not in metric_names or not reading.limit:
            continue
        threshold = METRIC_THRESHOLDS.get(name, DEFAULT_METRIC_THRESHOLD)
        if reading.ratio >= threshold or not after(reading.observed_at, since):
            continue
        label = METRIC_LABELS.get(name, name)
        signs.append(
            RecoverySign(
                text=f"{label}: {reading.value:g}/{reading.limit:g} "
                f"({round(100 * reading.ratio)}%) on {agent}, under the "
                f"{round(100 * threshold)}% threshold",
                observed_at=reading.observed_at,
            )
        )
    return signs


def alert_signs(
    *, snapshot: EvidenceSnapshot, agent: str | None, since: datetime | None
) -> list[RecoverySign]:
    return [
        RecoverySign(
            text=f"Alert {alert.name} resolved at {clock(alert.ended_at)}",
            observed_at=alert.ended_at,
        )
        for alert in snapshot.resolved_alerts
        if alert.agent in (agent or "", "") and after(alert.ended_at, since)
    ]


# Steps already done


def step_progress(*, snapshot: EvidenceSnapshot, step: dict, since: datetime | None) -> dict | None:
    """Return the completed step's status, result and action, or None while it is still to do.

    A quick action that succeeded after the problem began did the step. Without one, a restart
    seen in telemetry completes a restart step, and a completed trial completes its retry.
    """
    kind = step.get("quick_action")
    params = step.get("params") or {}
    action = step_action(snapshot=snapshot, kind=kind, params=params, since=since)
    if action is not None and action.status == ACTION_SUCCEEDED:
        return {
            "status": "completed",
            "result": f"Done by quick action {action.action_id}"
            + (f" ({action.requested_by})" if action.requested_by else "")
            + f" at {clock(action.finished_at)}",
            "done_by": {
                "action_id": action.action_id,
                "requested_by": action.requested_by,
                "finished_at": action.finished_at.isoformat(),
            },
        }
    if kind == RESTART_AGENT:
        moment = restarted_at(snapshot=snapshot, agent=params.get("agent"))
        if moment is not None:
            return {"status": "completed", "result": f"Restarted at {clock(moment)}"}
    if kind == RETRY_WORKFLOW:
        trial = next(
            (item for item in snapshot.trials if item.trial_id == params.get("workflow_id")), None
        )
        if trial is not None and trial.status == COMPLETED:
            return {"status": "completed", "result": f"Completed at {clock(trial_end(trial))}"}
    if action is not None and action.status == ACTION_FAILED:
        return {"status": "pending", "result": f"Quick action {action.action_id} failed"}
    return None


def step_action(
    *, snapshot: EvidenceSnapshot, kind: str | None, params: dict, since: datetime | None
) -> ActionRecord | None:
    """Return the newest finished quick action that matches the step, or None."""
    if kind not in (RESTART_AGENT, RETRY_WORKFLOW):
        return None
    keys = ("agent",) if kind == RESTART_AGENT else ("workflow_id",)
    matching = [
        action
        for action in snapshot.actions
        if action.kind == kind
        and action.status in (ACTION_SUCCEEDED, ACTION_FAILED)
        and after(action.finished_at, since)
        and all(str(action.params.get(key)) == str(params.get(key)) for key in keys)
    ]
    return matching[-1] if matching else None


def retry_done_params(*, snapshot: EvidenceSnapshot, since: datetime | None) -> dict | None:
    """Return the params of the newest successful retry since the problem began, or None."""
    retries = [
        action
        for action in snapshot.actions
        if action.kind == RETRY_WORKFLOW
        and action.status == ACTION_SUCCEEDED
        and after(action.finished_at, since)
    ]
    if not retries:
        return None
    params = retries[-1].params
    return {"workflow_id": params.get("workflow_id"), "from_step": params.get("from_step")}
