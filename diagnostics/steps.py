"""Resolution steps: built from the fault kind's step list, then marked done or not needed.

A step that is a check the detective already made is completed with its evidence line. A step
a quick action or the platform did since the problem began is completed with what did it.
"""

from datetime import datetime

from diagnostics.catalog import RESTART_AGENT, RETRY_WORKFLOW, FaultKind, StepTemplate
from diagnostics.evidence import EvidenceSnapshot
from diagnostics.findings import Finding, Signal
from diagnostics.recovery import step_progress
from diagnostics.scoring import Hypothesis


def steps_build(
    *, kind: FaultKind, chosen: Hypothesis, workflow: Finding | None, retried: dict | None = None
) -> list[dict]:
    """Build the kind's resolution steps. `retried` replaces the workflow when a successful
    retry has already moved on, so that the retry step still shows as done."""
    steps = []
    for template in kind.steps:
        step = step_build(template=template, chosen=chosen, workflow=workflow, retried=retried)
        if step is not None:
            steps.append({"step": len(steps) + 1, **step})
    return steps


def steps_progress_apply(
    *, snapshot: EvidenceSnapshot, steps: list[dict], since: datetime | None, resolved: bool
) -> None:
    """Mark the steps that quick actions or the platform did since the problem began.

    Once the problem has cleared (`resolved`), the steps still to do are not needed, so the
    panel offers no restart or retry for a problem that is gone.
    """
    for step in steps:
        if step["status"] == "completed":
            continue
        progress = step_progress(snapshot=snapshot, step=step, since=since)
        if progress is not None:
            step.update(progress)
        if step["status"] == "pending" and resolved:
            step["status"] = "not_needed"
            step["result"] = "Not needed: the problem has cleared"


def step_build(
    *,
    template: StepTemplate,
    chosen: Hypothesis,
    workflow: Finding | None,
    retried: dict | None = None,
) -> dict | None:
    """Build one resolution step, or None when the evidence lacks what the step needs."""
    if template.quick_action == RESTART_AGENT and not chosen.agent:
        return None
    retry = retry_params(workflow=workflow, retried=retried)
    if template.quick_action == RETRY_WORKFLOW and retry is None:
        return None

    action = template.action.format(
        agent=chosen.agent or "the agent",
        workflow_id=retry["workflow_id"] if retry else "",
        step=retry["from_step"] if retry else "",
        version=deployed_version(chosen=chosen),
    )
    step: dict = {"action": action, "status": "pending"}
    if template.check_signals:
        step["status"] = "completed"
        step["result"] = check_result(template=template, chosen=chosen)
    if template.quick_action == RESTART_AGENT:
        step["quick_action"] = RESTART_AGENT
        step["params"] = {"agent": chosen.agent}
    if template.quick_action == RETRY_WORKFLOW:
        step["quick_action"] = RETRY_WORKFLOW
        step["params"] = retry
    return step


def retry_params(*, workflow: Finding | None, retried: dict | None) -> dict | None:
    if workflow is not None and workflow.step is not None:
        return {"workflow_id": workflow.workflow_id, "from_step": workflow.step}
    return retried


def check_result(*, template: StepTemplate, chosen: Hypothesis) -> str:
    """Return the first evidence line matching the check's signals, in their order of preference."""
    for signal in template.check_signals:
        for finding, _weight in chosen.supporting:
            if finding.signal == signal:
                return f"{finding.text} (degraded)"
    return "Nothing abnormal in the collected evidence"


def deployed_version(*, chosen: Hypothesis) -> str:
    for finding, _weight in chosen.supporting:
        if finding.signal == Signal.VERSION_CHANGE:
            return finding.data.get("version", "")
    return ""
