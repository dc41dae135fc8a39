"""Turn scored hypotheses into a conclusion: root cause, resolution steps, impact, alternatives.

The conclusion is plain data. services.py adds the diagnosis id and related past issues and
stores it; result_build() gives the API's JSON shape.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from diagnostics.calibration import calibrate
from diagnostics.catalog import (
    CATALOG,
    NONE_KIND,
    UNKNOWN_KIND,
)
from diagnostics.detectors import SYMPTOM_SIGNALS, Finding, Signal, findings_detect
from diagnostics.evidence import LOOKBACK, EvidenceSnapshot, OperationStats
from diagnostics.recovery import (
    first_problem_at,
    operation_recovered,
    recovery_find,
    restarted_at,
    retry_done_params,
)
from diagnostics.scoring import MAX_SCORE, MIN_SCORE, Hypothesis, hypotheses_rank, peers_with_error
from diagnostics.steps import deployed_version, steps_build, steps_progress_apply
from diagnostics.text import message_excerpt, message_template

HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.5
ALTERNATIVE_LIMIT = 4
EVIDENCE_LIMIT = 8

# A problem is ongoing while its calls failed this recently with no success since, or while a
# trial stays blocked, an alert fires, a metric stays saturated or the agent stays unhealthy.
ONGOING_WINDOW = timedelta(minutes=15)
IMPACT_ID_LIMIT = 20

NOTHING_FOUND = "No problem found in the last 24 hours of telemetry"
WORKFLOW_SIGNALS = (
    Signal.WORKFLOW_STUCK,
    Signal.WORKFLOW_FAILED,
    Signal.STEP_FAILURES,
    Signal.STEP_WITHOUT_CALLS,
)
# Signals that show the change behind a problem rather than its symptoms, strongest first.
CAUSE_SIGNALS = (
    Signal.VERSION_CHANGE,
    Signal.METRIC_SATURATION,
    Signal.METRIC_SHIFT,
    Signal.ALERT,
    Signal.AGENT_DOWN,
    Signal.AGENT_RESTARTING,
    Signal.TEMPLATE_NEW,
    Signal.TEMPLATE_BURST,
    Signal.LATENCY_SHIFT,
    Signal.STEP_WITHOUT_CALLS,
    Signal.AGENT_DEGRADED,
    Signal.ERROR_LOG,
    Signal.ERROR_MESSAGE,
)
# Signals that stay true while the problem lasts, whatever the age of the first error.
STANDING_SIGNALS = (
    *WORKFLOW_SIGNALS,
    Signal.ALERT,
    Signal.AGENT_DOWN,
    Signal.AGENT_RESTARTING,
    Signal.AGENT_DEGRADED,
)
# Templates of these signals name the error best, for the fingerprint, in this order.
TEMPLATE_PREFERENCE = (
    Signal.ERROR_MESSAGE,
    Signal.ERROR_LOG,
    Signal.TEMPLATE_NEW,
    Signal.TEMPLATE_BURST,
    Signal.ALERT,
    Signal.WORKFLOW_FAILED,
)
MANUAL_STEPS = (
    "Ask the customer when the problem happened and which trial it concerns",
    "Open the interaction timeline and look for slow or failed calls around that time",
    "Check the agents' status on the platform",
    "Run the diagnosis again after the customer reproduces the problem",
    "Escalate to engineering with the timeline attached if the problem persists",
)


@dataclass
class Conclusion:
    kind: str
    title: str
    summary: str
    confidence: float
    component: str = ""
    workflow_id: str | None = None
    stuck_step: int | None = None
    evidence: list[str] = field(default_factory=list)
    first_symptom: dict | None = None
    # The change that caused the trouble: a statement and the evidence line that shows it.
    cause: dict | None = None
    impact: dict = field(default_factory=dict)
    # True while the problem still shows in the evidence; the scan resolves it once False.
    ongoing: bool = False
    # Once the problem cleared: the evidence of recovery (recovery.Recovery.describe()).
    recovery: dict | None = None
    steps: list[dict] = field(default_factory=list)
    playbook: str = ""
    alternatives: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    manual_steps: list[str] = field(default_factory=list)
    # Error template the cause rests on, for the fingerprint and text similarity.
    template: str = ""

    @property
    def fingerprint(self) -> str:
        return f"{self.kind}|{self.component}|{self.template}"[:256]

    @property
    def band(self) -> str:
        return confidence_band(confidence=self.confidence)

    @property
    def status(self) -> str:
        """Return "ongoing", "resolved" (cleared, with evidence of recovery), "inactive"
        (not seen recently, without such evidence) or "none" when no problem was found."""
        if self.kind == NONE_KIND:
            return "none"
        if self.ongoing:
            return "ongoing"
        return "resolved" if self.recovery else "inactive"


def confidence_band(*, confidence: float) -> str:
    if confidence >= HIGH_CONFIDENCE:
        return "high"
    if confidence >= MEDIUM_CONFIDENCE:
        return "medium"
    return "low"


def conclusion_reach(*, snapshot: EvidenceSnapshot, findings: list[Finding]) -> Conclusion:
    checked = checked_describe(snapshot=snapshot)
    if not findings:
        return Conclusion(
            kind=NONE_KIND,
            title="No problem found",
            summary=NOTHING_FOUND,
            confidence=0.0,
            checked=checked,
            manual_steps=list(MANUAL_STEPS),
        )

    ranked = hypotheses_calibrate(hypotheses_rank(snapshot=snapshot, findings=findings))
    chosen = ranked[0]
    if chosen.score < MIN_SCORE:
        return unknown_conclusion(findings=findings, ranked=ranked, checked=checked)
    return hypothesis_conclusion(
        snapshot=snapshot, findings=findings, ranked=ranked, checked=checked
    )


def hypotheses_calibrate(ranked: list[Hypothesis]) -> list[Hypothesis]:
    """Set each hypothesis' calibrated confidence and order by it, keeping ties in score order."""
    for hypothesis in ranked:
        # A fitted table may reach 1.0; the evidence is indirect, so the cap still holds.
        hypothesis.confidence = min(calibrate(hypothesis.score, kind=hypothesis.code), MAX_SCORE)
    return sorted(ranked, key=lambda hypothesis: -hypothesis.confidence)


def hypothesis_conclusion(
    *,
    snapshot: EvidenceSnapshot,
    findings: list[Finding],
    ranked: list[Hypothesis],
    checked: list[str],
) -> Conclusion:
    chosen = ranked[0]
    agent = chosen.agent or ""
    workflow = workflow_locate(chosen=chosen, findings=findings)
    impact = impact_estimate(snapshot=snapshot, chosen=chosen, findings=findings)

    conclusion = Conclusion(
        kind=chosen.code,
        title=chosen.kind.title,
        summary=chosen.kind.summary.format(agent=agent or "the platform"),
        confidence=chosen.confidence,
        component=agent,
        workflow_id=workflow.workflow_id if workflow else None,
        stuck_step=workflow.step if workflow else None,
        evidence=evidence_lines(chosen=chosen, impact=impact),
        first_symptom=first_symptom(snapshot=snapshot, chosen=chosen, findings=findings),
        cause=cause_describe(chosen=chosen),
        impact=impact,
        ongoing=ongoing_check(snapshot=snapshot, chosen=chosen, findings=findings),
        playbook=chosen.kind.playbook,
        alternatives=[alternative_describe(hypothesis=item) for item in alternatives(ranked)],
        rejected=[rejected_describe(hypothesis=item) for item in rejected(ranked)],
        checked=checked,
        template=fingerprint_template(chosen=chosen),
    )
    if not conclusion.ongoing:
        conclusion.recovery = recovery_describe(snapshot=snapshot, chosen=chosen)
    retried = None if workflow else retried_workflow(snapshot=snapshot, chosen=chosen)
    if retried is not None:
        conclusion.workflow_id = retried["workflow_id"]
        conclusion.stuck_step = retried["from_step"]
    conclusion.steps = steps_build(
        kind=chosen.kind, chosen=chosen, workflow=workflow, retried=retried
    )
    steps_progress_apply(
        snapshot=snapshot,
        steps=conclusion.steps,
        since=first_problem_at(snapshot=snapshot, agent=chosen.agent),
        resolved=conclusion.status == "resolved",
    )
    if conclusion.band == "low":
        conclusion.manual_steps = list(MANUAL_STEPS)
    return conclusion


def recovery_describe(*, snapshot: EvidenceSnapshot, chosen: Hypothesis) -> dict | None:
    recovery = recovery_find(
        snapshot=snapshot, agent=chosen.agent, metric_names=chosen.kind.metric_names
    )
    return recovery.describe() if recovery else None


def retried_workflow(*, snapshot: EvidenceSnapshot, chosen: Hypothesis) -> dict | None:
    """Return the workflow and step a successful retry restarted after the problem began."""
    since = first_problem_at(snapshot=snapshot, agent=chosen.agent)
    return retry_done_params(snapshot=snapshot, since=since)


def unknown_conclusion(
    *, findings: list[Finding], ranked: list[Hypothesis], checked: list[str]
) -> Conclusion:
    symptom = earliest_symptom(findings=findings)
    summary = "Symptoms found, but no known fault matches them"
    return Conclusion(
        kind=UNKNOWN_KIND,
        title="Unknown cause",
        summary=summary,
        confidence=ranked[0].score,
        evidence=[finding.text for finding in findings[:EVIDENCE_LIMIT]],
        first_symptom=symptom,
        ongoing=any(finding_standing(finding) for finding in findings),
        rejected=[rejected_describe(hypothesis=item) for item in ranked],
        checked=checked,
        manual_steps=list(MANUAL_STEPS),
    )


def alternatives(ranked: list[Hypothesis]) -> list[Hypothesis]:
    return [item for item in ranked[1:] if item.score >= MIN_SCORE][:ALTERNATIVE_LIMIT]


def rejected(ranked: list[Hypothesis]) -> list[Hypothesis]:
    proposed = {item.code for item in alternatives(ranked)} | {ranked[0].code}
    return [item for item in ranked if item.code not in proposed]


def alternative_describe(*, hypothesis: Hypothesis) -> dict:
    return {
        "kind": hypothesis.code,
        "title": hypothesis.kind.title,
        "summary": hypothesis.kind.summary.format(agent=hypothesis.agent or "the platform"),
        "confidence": hypothesis.confidence,
        "affected_component": hypothesis.agent or "",
        "evidence": unique_texts(hypothesis.supporting),
        "evidence_against": hypothesis.against,
    }


def rejected_describe(*, hypothesis: Hypothesis) -> dict:
    against = hypothesis.against or [f"Evidence too weak (score {hypothesis.score:.2f})"]
    return {
        "kind": hypothesis.code,
        "title": hypothesis.kind.title,
        "confidence": hypothesis.confidence,
        "evidence_against": against,
    }


def unique_texts(supporting: list[tuple[Finding, float]]) -> list[str]:
    texts: list[str] = []
    for finding, _weight in supporting:
        if finding.text not in texts:
            texts.append(finding.text)
    return texts[:EVIDENCE_LIMIT]


def evidence_lines(*, chosen: Hypothesis, impact: dict) -> list[str]:
    lines = unique_texts(chosen.supporting)
    lines.append(impact_line(impact=impact))
    return lines


def workflow_locate(*, chosen: Hypothesis, findings: list[Finding]) -> Finding | None:
    """Return the stuck or failed workflow the cause explains, preferring the cause's agent."""
    candidates = [finding for finding in findings if finding.signal in WORKFLOW_SIGNALS]
    if not candidates:
        return None
    same_agent = [finding for finding in candidates if finding.agent == chosen.agent]
    return (same_agent or candidates)[0]


def first_symptom(
    *, snapshot: EvidenceSnapshot, chosen: Hypothesis, findings: list[Finding]
) -> dict | None:
    """Return the cause's first failed or timed-out call, else the earliest symptom finding."""
    operations = [
        operation
        for operation in snapshot.operations
        if operation.agent == chosen.agent and operation.first_problem_at is not None
    ]
    if not operations:
        return earliest_symptom(findings=findings)

    first = min(operations, key=lambda operation: operation.first_problem_at)
    return {
        "text": first_call_text(snapshot=snapshot, operation=first),
        "observed_at": first.first_problem_at.isoformat(),
    }


def first_call_text(*, snapshot: EvidenceSnapshot, operation: OperationStats) -> str:
    calls = [
        call
        for call in snapshot.failed_calls
        if call.agent == operation.agent and call.operation == operation.operation
    ]
    first = calls[0] if calls else None
    label = "First timeout" if operation.timeouts else "First failure"
    text = (
        f"{label}: {operation.operation} call to {operation.agent} at "
        f"{operation.first_problem_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    message = (first.error_message or first.error_type) if first else ""
    if message:
        text += f" ('{message_excerpt(text=message)}')"
    return text


def earliest_symptom(*, findings: list[Finding]) -> dict | None:
    symptoms = [
        finding
        for finding in findings
        if finding.signal in SYMPTOM_SIGNALS and finding.observed_at is not None
    ]
    if not symptoms:
        return None
    earliest = min(symptoms, key=lambda finding: finding.observed_at)
    return {"text": earliest.text, "observed_at": earliest.observed_at.isoformat()}


def cause_describe(*, chosen: Hypothesis) -> dict:
    """Describe the change behind the problem, with the evidence line that shows it best."""
    statement = chosen.kind.cause.format(
        agent=chosen.agent or "the platform",
        version=deployed_version(chosen=chosen) or "a new version",
    )
    finding = cause_finding(chosen=chosen)
    return {
        "text": statement,
        "evidence": finding.text if finding else None,
        "observed_at": finding.observed_at.isoformat() if finding and finding.observed_at else None,
    }


def cause_finding(*, chosen: Hypothesis) -> Finding | None:
    for signal in CAUSE_SIGNALS:
        for finding, _weight in chosen.supporting:
            if finding.signal == signal:
                return finding
    return None


def fingerprint_template(*, chosen: Hypothesis) -> str:
    """Return the template of the text evidence that names the error best."""
    for signal in TEMPLATE_PREFERENCE:
        for finding, _weight in chosen.supporting:
            if finding.signal == signal and (finding.template or finding.example):
                return finding.template or message_template(text=finding.example)
    return chosen.templates[0] if chosen.templates else ""


def ongoing_check(
    *, snapshot: EvidenceSnapshot, chosen: Hypothesis, findings: list[Finding]
) -> bool:
    """Return whether the problem still shows, judged by the newest evidence of the cause."""
    relevant = [finding for finding in findings if finding.agent in (chosen.agent, None)]
    if any(finding_standing(finding) for finding in relevant):
        return True

    recent_since = snapshot.now - ONGOING_WINDOW
    restart = restarted_at(snapshot=snapshot, agent=chosen.agent)
    # A reading taken before the agent restarted describes the process that was replaced, such
    # as its exhausted pool, so only a saturated reading since the restart keeps it ongoing.
    current_since = max(recent_since, restart) if restart else recent_since
    saturated = [finding for finding in relevant if finding.signal == Signal.METRIC_SATURATION]
    if any(finding.observed_at and finding.observed_at >= current_since for finding in saturated):
        return True
    return any(
        operation_ongoing(operation=operation, recent_since=recent_since, restart=restart)
        for operation in snapshot.operations
        if operation.agent == chosen.agent
    )


def finding_standing(finding: Finding) -> bool:
    """Return whether the finding shows a current state, which keeps a problem ongoing.

    A trial that failed longer ago than the failed-trial age, with no error since, is history.
    """
    if finding.signal not in STANDING_SIGNALS:
        return False
    return not (finding.signal == Signal.WORKFLOW_FAILED and finding.data.get("stale"))


def operation_ongoing(*, operation: OperationStats, recent_since, restart=None) -> bool:
    """Return whether the operation failed recently with no success or restart since."""
    last_problem = operation.last_problem_at
    if last_problem is None or last_problem < recent_since:
        return False
    return not operation_recovered(operation=operation, restart=restart)


def impact_estimate(
    *, snapshot: EvidenceSnapshot, chosen: Hypothesis, findings: list[Finding]
) -> dict:
    peers = peers_with_error(snapshot=snapshot, agent=chosen.agent, templates=chosen.templates)
    other_customers = sorted({peer.customer_id for peer in peers})
    own_trials = {
        finding.workflow_id
        for finding in findings
        if finding.signal in (Signal.WORKFLOW_STUCK, Signal.WORKFLOW_FAILED)
    }
    peer_trials = {peer.workflow_id for peer in peers if peer.workflow_id}
    trials = sorted(trial for trial in own_trials | peer_trials if trial)
    return {
        "customers_affected": 1 + len(other_customers),
        "trials_affected": len(trials),
        "other_customer_ids": other_customers[:IMPACT_ID_LIMIT],
        "trial_ids": trials[:IMPACT_ID_LIMIT],
    }


def impact_line(*, impact: dict) -> str:
    count = impact["customers_affected"]
    line = f"Impact: {count} customer{'s' if count != 1 else ''} affected"
    others = impact["other_customer_ids"]
    if others:
        line += f" (also {', '.join(others[:5])}{', ...' if len(others) > 5 else ''})"
    return line


def checked_describe(*, snapshot: EvidenceSnapshot) -> list[str]:
    hours = round(LOOKBACK.total_seconds() / 3600)
    calls = sum(operation.calls for operation in snapshot.operations)
    called_agents = {operation.agent for operation in snapshot.operations}
    active = [trial.trial_id for trial in snapshot.trials if trial.status != "COMPLETED"]
    assigned = [agent.name for agent in snapshot.agents if agent.customer_status is not None]
    return [
        f"Trials: {len(snapshot.trials)} in the last {hours} hours, "
        f"{len(active)} active{f' ({", ".join(active)})' if active else ''}",
        f"Agent calls: {calls} to {len(called_agents)} agents in the last {hours} hours",
        f"Failed or timed-out calls: {len(snapshot.failed_calls)}",
        f"Warning and error logs: {len(snapshot.logs)}",
        f"Agent status and versions: {len(assigned)} agents assigned to the customer",
        f"Metrics: {len(snapshot.metrics)} saturation readings",
        f"Alerts: {len(snapshot.alerts)} firing",
    ]


def kind_title(*, code: str) -> str:
    if code in CATALOG:
        return CATALOG[code].title
    return {NONE_KIND: "No problem found", UNKNOWN_KIND: "Unknown cause"}.get(code, code)


def result_build(
    *, diagnosis_id: str, customer_id: str, conclusion: Conclusion, related_issues: list[dict]
) -> dict:
    """Build the Issue Detective API response."""
    return {
        "diagnosis_id": diagnosis_id,
        "customer_id": customer_id,
        "kind": conclusion.kind,
        "title": conclusion.title,
        "root_cause": {
            "summary": conclusion.summary,
            "confidence": conclusion.confidence,
            "confidence_band": conclusion.band,
            "evidence": conclusion.evidence,
            "affected_component": conclusion.component,
            "workflow_id": conclusion.workflow_id,
            "stuck_step": conclusion.stuck_step,
            "first_symptom": conclusion.first_symptom,
            "cause": conclusion.cause,
            "impact": conclusion.impact,
            "ongoing": conclusion.ongoing,
        },
        "status": conclusion.status,
        "recovery": conclusion.recovery,
        "resolution_steps": conclusion.steps,
        "related_issues": related_issues,
        "recommended_playbook": conclusion.playbook,
        "alternatives": conclusion.alternatives,
        "rejected": conclusion.rejected,
        "checked": conclusion.checked,
        "manual_steps": conclusion.manual_steps,
    }


def conclusion_from_snapshot(*, snapshot: EvidenceSnapshot) -> Conclusion:
    return conclusion_reach(snapshot=snapshot, findings=findings_detect(snapshot=snapshot))


def diagnose_snapshot(snapshot: EvidenceSnapshot) -> dict:
    """Diagnose a snapshot without touching the database, as the evaluation harness needs.

    The result has the API's shape with an empty diagnosis id and no related past issues, which
    only stored diagnoses provide.
    """
    conclusion = conclusion_from_snapshot(snapshot=snapshot)
    return result_build(
        diagnosis_id="",
        customer_id=snapshot.customer_id,
        conclusion=conclusion,
        related_issues=[],
    )
