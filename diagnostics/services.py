"""Writes of the Issue Detective: run and store a diagnosis, and mark one resolved."""

import logging
from typing import NoReturn

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from diagnostics.evidence import EvidenceSnapshot, evidence_collect
from diagnostics.models import Diagnosis
from diagnostics.reasoning import (
    Conclusion,
    conclusion_from_snapshot,
    diagnose_snapshot,
    result_build,
)
from diagnostics.selectors import past_issues_list, related_issues_rank, similar_issue_count

logger = logging.getLogger(__name__)

__all__ = ["diagnose_snapshot", "diagnosis_create", "diagnosis_resolve", "diagnosis_store"]

RESOLUTION_MAX_LENGTH = 2000


class DiagnosisResolveError(ValueError):
    """The resolution is invalid: empty or too long."""


class DiagnosisAlreadyResolved(DiagnosisResolveError):
    """The diagnosis was resolved before; its resolution is kept as it is."""


def diagnosis_create(
    *,
    customer: Customer,
    issue_description: str = "",
    requested_by=None,
    snapshot: EvidenceSnapshot | None = None,
) -> Diagnosis:
    """Collect the customer's evidence (unless given), reason over it and store the diagnosis."""
    snapshot = snapshot or evidence_collect(customer=customer)
    conclusion = conclusion_from_snapshot(snapshot=snapshot)
    return diagnosis_store(
        customer=customer,
        snapshot=snapshot,
        conclusion=conclusion,
        issue_description=issue_description,
        requested_by=requested_by,
    )


def diagnosis_store(
    *,
    customer: Customer,
    snapshot: EvidenceSnapshot,
    conclusion: Conclusion,
    issue_description: str = "",
    requested_by=None,
) -> Diagnosis:
    """Add related past issues to a conclusion and store it as a diagnosis."""
    past = past_issues_list(
        since=snapshot.since, kind=conclusion.kind, fingerprint=conclusion.fingerprint
    )
    related = related_issues_rank(
        conclusion=conclusion, issue_description=issue_description, past=past
    )
    similar = similar_issue_count(
        conclusion=conclusion, customer_id=customer.customer_id, past=past, since=snapshot.since
    )
    if similar:
        conclusion.evidence.append(f"Similar issues: {similar} in last 24h")

    diagnosis = Diagnosis(
        customer=customer,
        issue_description=issue_description,
        kind=conclusion.kind,
        component=conclusion.component,
        summary=conclusion.summary,
        confidence=conclusion.confidence,
        fingerprint=conclusion.fingerprint,
        requested_by=requested_by,
        evidence_state=evidence_state_describe(snapshot=snapshot),
    )
    diagnosis.result = result_build(
        diagnosis_id=diagnosis.diagnosis_id,
        customer_id=customer.customer_id,
        conclusion=conclusion,
        related_issues=related,
    )
    diagnosis.save()

    logger.info(
        "Diagnosis created",
        extra={
            "diagnosis_id": diagnosis.diagnosis_id,
            "customer_id": customer.customer_id,
            "kind": diagnosis.kind,
            "confidence": diagnosis.confidence,
        },
    )
    return diagnosis


def evidence_state_describe(*, snapshot: EvidenceSnapshot) -> dict:
    """Return the trial and agent statuses the snapshot holds, for Diagnosis.evidence_state."""
    return {
        "trials": {trial.trial_id: trial.status for trial in snapshot.trials},
        "agents": {
            agent.name: [agent.platform_status, agent.customer_status] for agent in snapshot.agents
        },
    }


def diagnosis_resolve(*, diagnosis: Diagnosis, resolution: str, resolved_by=None) -> Diagnosis:
    """Mark the diagnosis resolved so that later diagnoses cite it as a past issue."""
    resolution = resolution.strip()
    if not resolution:
        resolve_reject(
            diagnosis=diagnosis,
            error=DiagnosisResolveError("Resolution is missing: say what fixed the problem."),
        )
    if len(resolution) > RESOLUTION_MAX_LENGTH:
        resolve_reject(
            diagnosis=diagnosis,
            error=DiagnosisResolveError(
                f"Resolution is {len(resolution)} characters long. Shorten it to "
                f"{RESOLUTION_MAX_LENGTH} or fewer."
            ),
        )

    with transaction.atomic():
        locked = Diagnosis.objects.select_for_update().get(pk=diagnosis.pk)
        if locked.resolved_at is not None:
            resolve_reject(
                diagnosis=locked,
                error=DiagnosisAlreadyResolved(
                    f"Diagnosis {locked.diagnosis_id} was already resolved at "
                    f"{locked.resolved_at.isoformat()}."
                ),
            )
        locked.resolved_at = timezone.now()
        locked.resolution = resolution
        locked.resolved_by = resolved_by
        locked.save(update_fields=["resolved_at", "resolution", "resolved_by"])

    logger.info(
        "Diagnosis resolved",
        extra={"diagnosis_id": locked.diagnosis_id, "customer_id": diagnosis.customer_id},
    )
    return locked


def resolve_reject(*, diagnosis: Diagnosis, error: DiagnosisResolveError) -> NoReturn:
    logger.info(
        "Diagnosis resolve rejected",
        extra={"diagnosis_id": diagnosis.diagnosis_id, "error": str(error)},
    )
    raise error
