"""Detectors: each reads an evidence snapshot and returns findings, one evidence line each."""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings

from diagnostics.baseline_detectors import (
    detect_alerts,
    detect_latency_shifts,
    detect_metric_saturation,
    detect_metric_shifts,
    detect_template_changes,
)
from diagnostics.evidence import (
    AgentState,
    EvidenceSnapshot,
    FailedCall,
    LogLine,
    OperationStats,
    TrialState,
)
from diagnostics.findings import (
    SYMPTOM_SIGNALS,
    TEMPLATE_SIGNALS,
    TEXT_SIGNALS,
    Finding,
    Signal,
)
from diagnostics.text import message_excerpt, message_template

__all__ = ["SYMPTOM_SIGNALS", "TEMPLATE_SIGNALS", "TEXT_SIGNALS", "Finding", "Signal"]

logger = logging.getLogger(__name__)

# A running step counts as stalled after this many times the trial's average step duration,
# and never sooner than STALL_MINIMUM.
STALL_FACTOR = 3
STALL_MINIMUM = timedelta(minutes=10)
# A version change this long before an agent's first failure counts as a suspect deploy.
DEPLOY_SUSPECT_WINDOW = timedelta(hours=2)
# Share of calls that must fail, or a count, before an operation's errors are a finding.
ERROR_RATE_THRESHOLD = 0.2
ERROR_COUNT_THRESHOLD = 3
RETRY_THRESHOLD = 3
# Timeouts count from this many. A single timeout counts only in the last hour and at this
# share of the calls, because one stray timeout in a day of calls is noise.
TIMEOUT_COUNT_THRESHOLD = 2
SINGLE_TIMEOUT_RATE_THRESHOLD = 0.5

PROBLEM_STATUSES = ("DOWN", "RESTARTING", "DEGRADED")


def failed_trial_max_age() -> timedelta:
    """Return how long a FAILED trial with no newer errors keeps counting as a current problem."""
    return timedelta(hours=getattr(settings, "HELPDESK_FAILED_TRIAL_MAX_AGE_HOURS", 24))


Detector = Callable[[EvidenceSnapshot], list[Finding]]


def findings_detect(*, snapshot: EvidenceSnapshot) -> list[Finding]:
    findings: list[Finding] = []
    for detector in DETECTORS:
        findings.extend(detector(snapshot))
    return findings


# Workflows


def detect_workflows(snapshot: EvidenceSnapshot) -> list[Finding]:
    findings: list[Finding] = []
    for trial in snapshot.trials:
        findings.extend(workflow_findings(snapshot=snapshot, trial=trial))
    return findings


def workflow_findings(*, snapshot: EvidenceSnapshot, trial: TrialState) -> list[Finding]:
    if trial.status == "FAILED":
        return [workflow_failed_finding(snapshot=snapshot, trial=trial)]

    stalled_for = step_stalled_for(snapshot=snapshot, trial=trial)
    if stalled_for is None:
        return []

    findings = [workflow_stuck_finding(snapshot=snapshot, trial=trial, stalled_for=stalled_for)]
    if not step_calls(snapshot=snapshot, trial=trial):
        findings.append(step_without_calls_finding(trial=trial, stalled_for=stalled_for))
    return findings


def step_stalled_for(*, snapshot: EvidenceSnapshot, trial: TrialState) -> timedelta | None:
    """Return how long the current step has sat, when the trial is stuck or stalled."""
    entered = trial.step_started_at or trial.last_activity_at
    sitting = max(snapshot.now - entered, timedelta(0))
    if trial.status == "STUCK":
        return sitting
    if trial.status != "RUNNING":
        return None
    if sitting > stall_threshold(trial=trial):
        return sitting
    return None


def stall_threshold(*, trial: TrialState) -> timedelta:
    """Return how long the current step may take: a multiple of the trial's average step."""
    finished_steps = trial.current_step - 1
    if finished_steps < 1 or trial.step_started_at is None:
        return STALL_MINIMUM
    average = (trial.step_started_at - trial.started_at) / finished_steps
    return max(average * STALL_FACTOR, STALL_MINIMUM)


def workflow_stuck_finding(
    *, snapshot: EvidenceSnapshot, trial: TrialState, stalled_for: timedelta
) -> Finding:
    minutes = round(stalled_for.total_seconds() / 60)
    text = (
        f"Workflow {trial.trial_id} stuck at Step {trial.current_step}/{trial.total_steps} "
        f"({trial.progress_percent}%) for {minutes} min"
    )
    if trial.status == "RUNNING":
        text += f" (status RUNNING, no progress for longer than {STALL_FACTOR}x a usual step)"
    return Finding(
        signal=Signal.WORKFLOW_STUCK,
        text=text,
        agent=step_agent(snapshot=snapshot, trial=trial),
        workflow_id=trial.trial_id,
        step=trial.current_step,
        observed_at=trial.step_started_at or trial.last_activity_at,
        data={"minutes": minutes, "status": trial.status, "step_name": trial.step_name},
    )


def workflow_failed_finding(*, snapshot: EvidenceSnapshot, trial: TrialState) -> Finding:
    text = f"Workflow {trial.trial_id} failed at Step {trial.current_step}/{trial.total_steps}"
    if trial.status_detail:
        text += f": '{message_excerpt(text=trial.status_detail)}'"
    return Finding(
        signal=Signal.WORKFLOW_FAILED,
        text=text,
        agent=step_agent(snapshot=snapshot, trial=trial),
        workflow_id=trial.trial_id,
        step=trial.current_step,
        observed_at=trial.last_activity_at,
        example=trial.status_detail,
        data={
            "step_name": trial.step_name,
            "stale": failed_trial_stale(snapshot=snapshot, trial=trial),
        },
    )


def failed_trial_stale(*, snapshot: EvidenceSnapshot, trial: TrialState) -> bool:
    """Return whether the trial failed longer ago than the maximum age, with no error since."""
    if snapshot.now - trial.last_activity_at <= failed_trial_max_age():
        return False
    return not any(call.started_at > trial.last_activity_at for call in snapshot.failed_calls)


def step_without_calls_finding(*, trial: TrialState, stalled_for: timedelta) -> Finding:
    minutes = round(stalled_for.total_seconds() / 60)
    return Finding(
        signal=Signal.STEP_WITHOUT_CALLS,
        text=(
            f"No agent call recorded for Step {trial.current_step} of {trial.trial_id} "
            f"in {minutes} min"
        ),
        workflow_id=trial.trial_id,
        step=trial.current_step,
        observed_at=trial.step_started_at or trial.last_activity_at,
    )


def step_calls(*, snapshot: EvidenceSnapshot, trial: TrialState) -> list:
    return [
        activity
        for activity in snapshot.step_activity
        if activity.workflow_id == trial.trial_id and activity.step == trial.current_step
    ]


def step_agent(*, snapshot: EvidenceSnapshot, trial: TrialState) -> str | None:
    """Return the agent that failed most at the trial's current step, else the one called."""
    activities = step_calls(snapshot=snapshot, trial=trial)
    if not activities:
        return None
    best = max(activities, key=lambda activity: (activity.problems, activity.calls))
    return best.agent


def detect_step_failures(snapshot: EvidenceSnapshot) -> list[Finding]:
    steps = {(trial.trial_id, trial.current_step): trial for trial in snapshot.trials}
    findings = []
    for activity in snapshot.step_activity:
        trial = steps.get((activity.workflow_id, activity.step))
        if trial is None or activity.problems == 0:
            continue
        findings.append(
            Finding(
                signal=Signal.STEP_FAILURES,
                text=(
                    f"Step {activity.step} of {activity.workflow_id}: {activity.problems} of "
                    f"{activity.calls} {activity.agent} calls failed or timed out"
                ),
                agent=activity.agent,
                workflow_id=activity.workflow_id,
                step=activity.step,
                observed_at=activity.last_call_at,
                data={"problems": activity.problems, "calls": activity.calls},
            )
        )
    return findings


# Operations


def detect_operations(snapshot: EvidenceSnapshot) -> list[Finding]:
    findings: list[Finding] = []
    for operation in snapshot.operations:
        findings.extend(operation_findings(operation=operation))
    return findings


def operation_findings(*, operation: OperationStats) -> list[Finding]:
    # Counts of the last hour read best; older problems fall back to the whole lookback.
    recent = operation.recent_timeouts + operation.recent_failures > 0
    calls = operation.recent_calls if recent else operation.calls
    timeouts = operation.recent_timeouts if recent else operation.timeouts
    failures = operation.recent_failures if recent else operation.failures
    window = "in the last hour" if recent else "in the last 24 hours"

    findings = []
    if timeouts and timeouts_matter(timeouts=timeouts, calls=calls, recent=recent):
        findings.append(
            operation_finding(
                signal=Signal.TIMEOUTS,
                text=f"Timeouts: {timeouts} of {calls} {operation.operation} calls to "
                f"{operation.agent} {window}",
                operation=operation,
                count=timeouts,
                calls=calls,
            )
        )
    if failures and (failures >= ERROR_COUNT_THRESHOLD or failures / calls >= ERROR_RATE_THRESHOLD):
        findings.append(
            operation_finding(
                signal=Signal.ERROR_RATE,
                text=f"Errors: {failures} of {calls} {operation.operation} calls to "
                f"{operation.agent} failed {window} ({round(100 * failures / calls)}%)",
                operation=operation,
                count=failures,
                calls=calls,
            )
        )
    if operation.max_retries >= RETRY_THRESHOLD and operation.failures + operation.timeouts:
        findings.append(
            operation_finding(
                signal=Signal.RETRIES,
                text=f"Retries: up to {operation.max_retries} per {operation.operation} call "
                f"to {operation.agent}",
                operation=operation,
                count=operation.max_retries,
                calls=operation.calls,
            )
        )
    return findings


def timeouts_matter(*, timeouts: int, calls: int, recent: bool) -> bool:
    """Tell whether timeouts are a pattern rather than one stray slow call.

    One timeout among many calls happens on a healthy platform, so it must not outweigh the
    evidence of the real fault. A single timeout counts only in the last hour and when it is a
    large share of the operation's calls there.
    """
    if timeouts >= TIMEOUT_COUNT_THRESHOLD:
        return True
    return recent and timeouts / calls >= SINGLE_TIMEOUT_RATE_THRESHOLD


def operation_finding(
    *, signal: Signal, text: str, operation: OperationStats, count: int, calls: int
) -> Finding:
    return Finding(
        signal=signal,
        text=text,
        agent=operation.agent,
        operation=operation.operation,
        observed_at=operation.first_problem_at,
        data={"count": count, "calls": calls},
    )


# Error text


def detect_error_messages(snapshot: EvidenceSnapshot) -> list[Finding]:
    groups: dict[tuple[str, str], list[FailedCall]] = defaultdict(list)
    for call in snapshot.failed_calls:
        text = call.error_message or call.error_type
        if text:
            groups[(call.agent, message_template(text=text))].append(call)

    findings = []
    for (agent, template), calls in groups.items():
        example = calls[-1].error_message or calls[-1].error_type
        findings.append(
            text_finding(
                signal=Signal.ERROR_MESSAGE,
                label=f"{agent} errors",
                agent=agent,
                template=template,
                example=example,
                count=len(calls),
                unit="calls",
                first_at=calls[0].started_at,
                data={
                    "error_types": sorted({call.error_type for call in calls if call.error_type})
                },
            )
        )
    return findings


def detect_error_logs(snapshot: EvidenceSnapshot) -> list[Finding]:
    groups: dict[tuple[str, str], list[LogLine]] = defaultdict(list)
    for line in snapshot.logs:
        if line.body and line.agent:
            groups[(line.agent, message_template(text=line.body))].append(line)

    findings = []
    for (agent, template), lines in groups.items():
        findings.append(
            text_finding(
                signal=Signal.ERROR_LOG,
                label=f"{agent} error logs",
                agent=agent,
                template=template,
                example=lines[-1].body,
                count=len(lines),
                unit="records",
                first_at=lines[0].timestamp,
                data={"severities": sorted({line.severity_text for line in lines})},
            )
        )
    return findings


def text_finding(
    *,
    signal: Signal,
    label: str,
    agent: str,
    template: str,
    example: str,
    count: int,
    unit: str,
    first_at: datetime,
    data: dict,
) -> Finding:
    text = f"{label}: '{message_excerpt(text=example)}'"
    if count > 1:
        text += f" ({count} {unit})"
    return Finding(
        signal=signal,
        text=text,
        agent=agent,
        observed_at=first_at,
        template=template,
        example=example,
        data={"count": count, **data},
    )


# Agent state


def detect_agent_states(snapshot: EvidenceSnapshot) -> list[Finding]:
    relevant = relevant_agents(snapshot=snapshot)
    findings = []
    for agent in snapshot.agents:
        if agent.name in relevant:
            findings.extend(agent_state_findings(agent=agent))
    return findings


def relevant_agents(*, snapshot: EvidenceSnapshot) -> set[str]:
    """Return agents serving the customer: assigned, called, or named by a trial."""
    names = {agent.name for agent in snapshot.agents if agent.customer_status is not None}
    names.update(operation.agent for operation in snapshot.operations)
    for trial in snapshot.trials:
        names.update(trial.agents_involved)
    return names


STATUS_SIGNALS = {
    "DOWN": Signal.AGENT_DOWN,
    "RESTARTING": Signal.AGENT_RESTARTING,
    "DEGRADED": Signal.AGENT_DEGRADED,
}


def agent_state_findings(*, agent: AgentState) -> list[Finding]:
    if agent.customer_status in PROBLEM_STATUSES:
        status, scope = agent.customer_status, "for this customer"
    elif agent.platform_status in PROBLEM_STATUSES:
        status, scope = agent.platform_status, "platform-wide"
    else:
        return []

    text = f"Agent {agent.name} is {status} {scope}"
    if agent.status_changed_at is not None:
        text += f" since {agent.status_changed_at:%Y-%m-%d %H:%M} UTC"
    return [
        Finding(
            signal=STATUS_SIGNALS[status],
            text=text,
            agent=agent.name,
            observed_at=agent.status_changed_at,
            data={"status": status, "scope": scope},
        )
    ]


def detect_version_changes(snapshot: EvidenceSnapshot) -> list[Finding]:
    first_problems = first_problem_by_agent(snapshot=snapshot)
    findings = []
    for agent in snapshot.agents:
        first_problem_at = first_problems.get(agent.name)
        changed_at = agent.version_changed_at
        if first_problem_at is None or changed_at is None:
            continue
        lead = first_problem_at - changed_at
        if timedelta(0) <= lead <= DEPLOY_SUSPECT_WINDOW:
            findings.append(version_change_finding(agent=agent, lead=lead))
    return findings


def first_problem_by_agent(*, snapshot: EvidenceSnapshot) -> dict[str, datetime]:
    first: dict[str, datetime] = {}
    for operation in snapshot.operations:
        if operation.first_problem_at is None:
            continue
        current = first.get(operation.agent)
        if current is None or operation.first_problem_at < current:
            first[operation.agent] = operation.first_problem_at
    return first


def version_change_finding(*, agent: AgentState, lead: timedelta) -> Finding:
    minutes = round(lead.total_seconds() / 60)
    version = agent.version or "a new version"
    return Finding(
        signal=Signal.VERSION_CHANGE,
        text=f"{agent.name} changed to version {version} {minutes} min before its first error",
        agent=agent.name,
        observed_at=agent.version_changed_at,
        data={"version": agent.version, "minutes_before_errors": minutes},
    )


DETECTORS: tuple[Detector, ...] = (
    detect_workflows,
    detect_step_failures,
    detect_operations,
    detect_error_messages,
    detect_error_logs,
    detect_agent_states,
    detect_version_changes,
    detect_metric_saturation,
    detect_metric_shifts,
    detect_alerts,
    detect_template_changes,
    detect_latency_shifts,
)
