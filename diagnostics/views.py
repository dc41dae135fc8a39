"""The Issue Detective panel: shown inside the customer overview (htmx) or as its own page."""

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from customers.models import Customer
from customers.selectors import customer_get
from diagnostics.forms import SystemDiagnosisForm
from diagnostics.models import Diagnosis
from diagnostics.presenters import active_issue_describe
from diagnostics.reasoning import confidence_band
from diagnostics.selectors import (
    active_issues_open_query,
    blocked_customers_describe,
    blocked_customers_query,
    covered_customer_ids,
    customer_active_issues,
    diagnosis_for_panel,
    quick_action_url,
)
from diagnostics.services import DiagnosisResolveError, diagnosis_create, diagnosis_resolve
from diagnostics.system import PeriodError, diagnose_periods

logger = logging.getLogger(__name__)

# The panel shows the newest diagnosis while it is this young, else the one the proactive scan
# keeps for the customer's open active issue, and diagnoses afresh when neither exists.
PANEL_REUSE_AGE = timedelta(minutes=5)
TEMPLATE = "diagnostics/panel.html"
ALL_ISSUES_PAGE_SIZE = 25


@require_GET
def diagnosis_panel(request: HttpRequest, customer_id: str) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    diagnosis = diagnosis_for_panel(customer=customer, max_age=PANEL_REUSE_AGE)
    if diagnosis is None:
        diagnosis = diagnosis_create(customer=customer, requested_by=request.user)
    return panel_render(request=request, customer=customer, diagnosis=diagnosis)


@require_POST
def diagnosis_run(request: HttpRequest, customer_id: str) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    diagnosis = diagnosis_create(
        customer=customer,
        issue_description=request.POST.get("issue_description", "").strip(),
        requested_by=request.user,
    )
    if not request.htmx:
        return redirect("diagnosis-panel", customer_id=customer.customer_id)
    return panel_render(request=request, customer=customer, diagnosis=diagnosis)


@require_POST
def diagnosis_resolve_view(
    request: HttpRequest, customer_id: str, diagnosis_id: str
) -> HttpResponse:
    customer = customer_get(customer_id=customer_id)
    diagnosis = Diagnosis.objects.filter(customer=customer, diagnosis_id=diagnosis_id).first()
    if diagnosis is None:
        raise Http404(f"Diagnosis '{diagnosis_id}' of customer '{customer_id}' not found.")
    try:
        diagnosis = diagnosis_resolve(
            diagnosis=diagnosis,
            resolution=request.POST.get("resolution", ""),
            resolved_by=request.user,
        )
    except DiagnosisResolveError as error:
        # htmx swaps only 2xx responses by default, so the fragment with the error comes back 200.
        return panel_render(
            request=request,
            customer=customer,
            diagnosis=diagnosis,
            resolve_error=str(error),
            status=200 if request.htmx else 400,
        )

    if not request.htmx:
        return redirect("diagnosis-panel", customer_id=customer.customer_id)
    return panel_render(request=request, customer=customer, diagnosis=diagnosis)


def panel_render(
    *,
    request: HttpRequest,
    customer: Customer,
    diagnosis: Diagnosis,
    resolve_error: str = "",
    status: int = 200,
) -> HttpResponse:
    result = diagnosis.result
    steps = [
        {**step, "url": step_url(customer=customer, step=step)}
        for step in result.get("resolution_steps", [])
    ]
    confidence = result.get("root_cause", {}).get("confidence", 0.0)
    context = {
        "customer": customer,
        "diagnosis": diagnosis,
        "result": result,
        "root_cause": result.get("root_cause", {}),
        "recovery": recovery_context(result=result),
        "embedded": panel_embedded(request=request, customer=customer),
        "steps": steps,
        "confidence_percent": round(confidence * 100),
        "confidence_band": confidence_band(confidence=confidence),
        "resolve_error": resolve_error,
        "active_issues": customer_active_issues(customer=customer),
    }
    template = f"{TEMPLATE}#panel" if request.htmx else TEMPLATE
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def step_url(*, customer: Customer, step: dict) -> str | None:
    """Return the confirmation page of a step still to do, or None for a step done or not needed."""
    if step.get("status") != "pending":
        return None
    return quick_action_url(customer_id=customer.customer_id, step=step)


def panel_embedded(*, request: HttpRequest, customer: Customer) -> bool:
    """Return whether the panel is rendered inside another page, such as the customer overview.

    Embedded, the quick action buttons open their confirmation in the overview's quick action
    region. The panel's own page has no such region, so there they follow their links.
    """
    if not request.htmx:
        return False
    own_page = reverse("diagnosis-panel", kwargs={"customer_id": customer.customer_id})
    return urlsplit(request.htmx.current_url or "").path != own_page


def recovery_context(*, result: dict) -> dict | None:
    """Return the recovery with its times as datetimes, to show them in the operator's zone."""
    recovery = result.get("recovery")
    if not recovery:
        return None
    return {
        **recovery,
        "recovered_at": parse_time(recovery.get("recovered_at")),
        "restarted_at": parse_time(recovery.get("restarted_at")),
    }


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@require_GET
def active_issues_page(request: HttpRequest) -> HttpResponse:
    """List every open active issue and every blocked trial they miss, a page of each at a time."""
    issues = Paginator(active_issues_open_query(), ALL_ISSUES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    blocked = Paginator(
        blocked_customers_query(exclude_ids=covered_customer_ids()), ALL_ISSUES_PAGE_SIZE
    ).get_page(request.GET.get("trials_page"))
    context = {
        "issues_page": issues,
        "active_issues": [active_issue_describe(issue=issue) for issue in issues],
        "blocked_page": blocked,
        "issues": blocked_customers_describe(blocked),
    }
    return render(request, "diagnostics/active_issues.html", context)


@require_GET
def system_diagnosis_page(request: HttpRequest) -> HttpResponse:
    """Rank the services whose behaviour departs most from a fault-free period.

    The page opens with the form alone, because a diagnosis reads every call of the window.
    """
    form = SystemDiagnosisForm(request.GET or None)
    diagnosis = None
    periods = form.periods(now=timezone.now()) if form.is_valid() else None
    if periods is not None:
        try:
            diagnosis = diagnose_periods(periods=periods)
        except PeriodError as error:
            form.add_error("window", str(error))
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "diagnosis": diagnosis}
    return render(request, "diagnostics/system.html", context, status=status)
