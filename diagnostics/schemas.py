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


class RootCauseOut(Schema):
    summary: str
    confidence: float
    confidence_band: Literal["high", "medium", "low"]
    evidence: list[str]
    affected_component: str
    workflow_id: str | None = None
    stuck_step: int | None = None
    first_symptom: FirstSymptomOut | None = None
    impact: ImpactOut | None = None


class ResolutionStepOut(Schema):
    step: int
    action: str
    status: Literal["completed", "pending"]
    result: str | None = None
    quick_action: Literal["restart_agent", "retry_workflow"] | None = None
    params: dict | None = None


class RelatedIssueOut(Schema):
    issue_id: str
    customer_id: str
    similarity: float
    resolved: bool
    resolution: str


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
