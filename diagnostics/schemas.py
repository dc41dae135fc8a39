"""Request and response schemas of the Issue Detective API."""

from typing import Literal

from ninja import Schema


class DiagnoseIn(Schema):
    customer_id: str
    issue_description: str = ""


class ResolveIn(Schema):
    resolution: str


class FirstSymptomOut(Schema):
    text: str
    observed_at: str


class ImpactOut(Schema):
    customers_affected: int = 0
    trials_affected: int = 0
    other_customer_ids: list[str] = []
    trial_ids: list[str] = []


class CauseOut(Schema):
    text: str
    evidence: str | None = None
    observed_at: str | None = None


class RootCauseOut(Schema):
    summary: str
    confidence: float
    confidence_band: Literal["high", "medium", "low"]
    evidence: list[str]
    affected_component: str
    workflow_id: str | None = None
    stuck_step: int | None = None
    first_symptom: FirstSymptomOut | None = None
    cause: CauseOut | None = None
    impact: ImpactOut | None = None
    ongoing: bool = False


class DoneByOut(Schema):
    action_id: str
    requested_by: str
    finished_at: str


class ResolutionStepOut(Schema):
    step: int
    action: str
    # not_needed: the problem cleared before the step was done.
    status: Literal["completed", "pending", "not_needed"]
    result: str | None = None
    quick_action: Literal["restart_agent", "retry_workflow"] | None = None
    params: dict | None = None
    # The quick action that did the step, when one did.
    done_by: DoneByOut | None = None


class RecoveryOut(Schema):
    summary: str
    recovered_at: str
    restarted_at: str | None = None
    completed_trials: list[str] = []
    evidence: list[str]


class RelatedIssueOut(Schema):
    issue_id: str
    customer_id: str
    similarity: float
    resolved: bool
    resolution: str
    match: Literal["fingerprint", "component", "kind", "text"] = "text"


class AlternativeOut(Schema):
    kind: str
    title: str
    summary: str
    confidence: float
    affected_component: str
    evidence: list[str]
    evidence_against: list[str]


class RejectedOut(Schema):
    kind: str
    title: str
    confidence: float
    evidence_against: list[str]


class DiagnosisOut(Schema):
    diagnosis_id: str
    customer_id: str
    kind: str
    title: str
    root_cause: RootCauseOut
    # ongoing; resolved (cleared, with the evidence in `recovery`); inactive (not seen
    # recently, without evidence of recovery); none (no problem found).
    status: Literal["ongoing", "resolved", "inactive", "none"] = "ongoing"
    recovery: RecoveryOut | None = None
    resolution_steps: list[ResolutionStepOut]
    related_issues: list[RelatedIssueOut]
    recommended_playbook: str
    alternatives: list[AlternativeOut]
    rejected: list[RejectedOut]
    checked: list[str]
    manual_steps: list[str]


class ResolvedOut(Schema):
    diagnosis_id: str
    resolved: bool
    resolved_at: str
    resolution: str
    resolved_by: str | None = None


class AffectedCustomerOut(Schema):
    customer_id: str
    name: str
    url: str
    first_seen: str
    last_seen: str
    occurrences: int
    trial_ids: list[str]
    diagnosis_id: str | None = None


class ActiveIssueOut(Schema):
    issue_id: str
    kind: str
    title: str
    component: str
    summary: str
    severity: Literal["critical", "major", "minor"]
    confidence: float
    scope: Literal["customer", "platform"]
    customer_id: str | None = None
    customers_affected: int
    trials_affected: int
    occurrences: int
    first_seen: str
    last_seen: str
    diagnosis_id: str | None = None
    # The customer overview of the most recently affected customer, where the diagnosis waits.
    url: str | None = None
    affected_customers: list[AffectedCustomerOut]


class ActiveIssueListOut(Schema):
    count: int
    last_scan_at: str | None = None
    active_issues: list[ActiveIssueOut]


class SystemSuspectOut(Schema):
    service: str
    score: float
    evidence: list[str]


class SystemDiagnosisOut(Schema):
    since: str
    until: str
    baseline_since: str
    baseline_until: str
    root_cause_service: str | None
    units_checked: int
    baseline_units: int
    patterns_learned: int
    suspects: list[SystemSuspectOut]
