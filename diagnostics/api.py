"""Issue Detective API: run a diagnosis, read one, mark one resolved, list active issues,
and diagnose the whole system over a time window."""

import logging
from datetime import datetime

from django.http import Http404
from django.utils import timezone
from ninja import Query, Router
from ninja.errors import HttpError

from customers.api import utc_time_read
from customers.models import Customer
from diagnostics.models import Diagnosis
from diagnostics.presenters import active_issue_describe
from diagnostics.schemas import (
    ActiveIssueListOut,
    DiagnoseIn,
    DiagnosisOut,
    ResolvedOut,
    ResolveIn,
    SystemDiagnosisOut,
)
from diagnostics.selectors import active_issues_open_list, last_scan_finished_at
from diagnostics.services import (
    DiagnosisAlreadyResolved,
    DiagnosisResolveError,
    diagnosis_create,
    diagnosis_resolve,
)
from diagnostics.system import PeriodError, diagnose_periods, periods_resolve
from helpdesk.api_errors import ErrorOut, FieldError

logger = logging.getLogger(__name__)

router = Router(tags=["Issue Detective"])

ACTIVE_ISSUE_MAX_LIMIT = 200


@router.post("/diagnose", response=DiagnosisOut)
def diagnose(request, payload: DiagnoseIn):
    customer = Customer.objects.filter(customer_id=payload.customer_id).first()
    if customer is None:
        raise Http404(f"Customer '{payload.customer_id}' not found: check the customer id.")

    diagnosis = diagnosis_create(
        customer=customer,
        issue_description=payload.issue_description,
        requested_by=request.user if request.user.is_authenticated else None,
    )
    return diagnosis.result


@router.get("/diagnoses/{diagnosis_id}", response=DiagnosisOut)
def diagnosis_detail(request, diagnosis_id: str):
    return diagnosis_get(diagnosis_id=diagnosis_id).result


@router.post("/diagnoses/{diagnosis_id}/resolve", response=ResolvedOut)
def diagnosis_resolve_endpoint(request, diagnosis_id: str, payload: ResolveIn):
    diagnosis = diagnosis_get(diagnosis_id=diagnosis_id)
    try:
        resolved = diagnosis_resolve(
            diagnosis=diagnosis,
            resolution=payload.resolution,
            resolved_by=request.user if request.user.is_authenticated else None,
        )
    except DiagnosisAlreadyResolved as error:
        raise HttpError(409, str(error)) from error
    except DiagnosisResolveError as error:
        raise HttpError(422, str(error)) from error

    return {
        "diagnosis_id": resolved.diagnosis_id,
        "resolved": True,
        "resolved_at": resolved.resolved_at.isoformat(),
        "resolution": resolved.resolution,
        "resolved_by": resolved.resolved_by.get_username() if resolved.resolved_by else None,
    }


def diagnosis_get(*, diagnosis_id: str) -> Diagnosis:
    diagnosis = Diagnosis.objects.filter(diagnosis_id=diagnosis_id).first()
    if diagnosis is None:
        raise Http404(f"Diagnosis '{diagnosis_id}' not found.")
    return diagnosis


@router.get("/active-issues", response=ActiveIssueListOut)
def active_issues(request, limit: Query[int] = 50, customer_id: str | None = None):
    """List open active issues found by the proactive scan, most severe and recent first."""
    if not 1 <= limit <= ACTIVE_ISSUE_MAX_LIMIT:
        raise HttpError(422, f"limit {limit} is out of range: use 1 to {ACTIVE_ISSUE_MAX_LIMIT}.")
    issues = active_issues_open_list(limit=limit, customer_id=customer_id)
    last_scan_at = last_scan_finished_at()
    return {
        "count": len(issues),
        "last_scan_at": last_scan_at.isoformat() if last_scan_at else None,
        "active_issues": [active_issue_describe(issue=issue) for issue in issues],
    }


@router.get("/system-diagnosis", response={200: SystemDiagnosisOut, 422: ErrorOut})
def system_diagnosis(
    request,
    since: datetime | None = None,
    until: datetime | None = None,
    baseline_since: datetime | None = None,
    baseline_until: datetime | None = None,
):
    """Rank the services most likely to have caused trouble between since and until.

    Each service's behaviour in the window is compared with a fault-free baseline period. The
    window ends now unless until is given and lasts 15 minutes unless since is given (at most
    6 hours). The baseline lasts an hour from baseline_since or up to baseline_until, else it is
    the hour before the window (at most 24 hours, not overlapping the window). Times without an
    offset are read as UTC.
    """
    times = {
        name: utc_time_read(parameter=name, value=value)
        for name, value in (
            ("since", since),
            ("until", until),
            ("baseline_since", baseline_since),
            ("baseline_until", baseline_until),
        )
    }
    try:
        periods = periods_resolve(now=timezone.now(), **times)
        diagnosis = diagnose_periods(periods=periods)
    except PeriodError as error:
        raise FieldError(422, field=error.field, message=str(error)) from error
    return {
        "since": diagnosis.since.isoformat(),
        "until": diagnosis.until.isoformat(),
        "baseline_since": diagnosis.baseline_since.isoformat(),
        "baseline_until": diagnosis.baseline_until.isoformat(),
        "root_cause_service": diagnosis.root_cause_service,
        "units_checked": diagnosis.units_checked,
        "baseline_units": diagnosis.baseline_units,
        "patterns_learned": diagnosis.patterns_learned,
        "suspects": [
            {
                "service": suspect.service,
                "score": round(suspect.score, 2),
                "evidence": suspect.evidence,
            }
            for suspect in diagnosis.suspects
        ],
    }
