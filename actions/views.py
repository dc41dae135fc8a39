"""Pages for quick actions: confirmation, action status with its audit, and a customer's list.

Each page is one template whose swappable region is a partial; htmx requests get the partial.
"""

import json
import logging

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from actions import selectors, services
from actions.models import QuickAction
from customers.models import Customer

logger = logging.getLogger(__name__)

RESTART = QuickAction.Kind.RESTART_AGENT
RETRY = QuickAction.Kind.RETRY_WORKFLOW
RESTART_FIELDS = ("agent",)
RETRY_FIELDS = ("workflow_id", "from_step")


@require_http_methods(["GET", "POST"])
def restart_confirm(request: HttpRequest, customer_id: str) -> HttpResponse:
    customer = customer_get_or_404(customer_id)
    params, errors = params_read(request, fields=RESTART_FIELDS)
    return confirm_or_request(
        request, customer=customer, kind=RESTART, params=params, errors=errors
    )


@require_http_methods(["GET", "POST"])
def retry_confirm(request: HttpRequest, customer_id: str) -> HttpResponse:
    customer = customer_get_or_404(customer_id)
    params, errors = params_read(request, fields=RETRY_FIELDS)
    return confirm_or_request(request, customer=customer, kind=RETRY, params=params, errors=errors)


def params_read(request: HttpRequest, *, fields: tuple[str, ...]) -> tuple[dict, dict[str, str]]:
    """Read the action's target from the query string on GET and from the form body on POST.

    The confirmation states its scope from the query string, and a POST runs what its body
    names. A POST whose query string names another target is rejected, so that an action never
    runs on a target other than the one the operator confirmed.
    """
    if request.method == "GET":
        return {field: request.GET.get(field, "") for field in fields}, {}

    params = {field: request.POST.get(field, "") for field in fields}
    errors = {}
    for field in fields:
        if field in request.GET and request.GET[field].strip() != params[field].strip():
            errors[field] = (
                f"The confirmation was for {field} {request.GET[field]!r}, but the form sent "
                f"{params[field]!r}, so nothing was run. Open the confirmation again from the "
                "customer overview."
            )
    return params, errors


def confirm_or_request(
    request: HttpRequest, *, customer: Customer, kind: str, params: dict, errors: dict[str, str]
) -> HttpResponse:
    reason = request.POST.get("reason", "")
    if request.method == "GET":
        services.quick_action_params_validate(
            customer=customer, kind=kind, params=params, errors=errors
        )
    if request.method == "GET" or errors:
        return confirm_render(
            request, customer=customer, kind=kind, params=params, errors=errors, reason=reason
        )

    try:
        action = services.quick_action_request(
            customer=customer,
            kind=kind,
            params=params,
            reason=reason,
            requested_by=request.user,
        )
    except ValidationError as error:
        errors = {field: " ".join(messages) for field, messages in error.message_dict.items()}
        return confirm_render(
            request, customer=customer, kind=kind, params=params, errors=errors, reason=reason
        )

    if request.htmx:
        # With an eager worker, as in the demo, the action has already run.
        action.refresh_from_db()
        return detail_render(request, action=action, announce_finished=True)
    return redirect("action-detail", action_id=action.action_id)


def confirm_render(
    request: HttpRequest,
    *,
    customer: Customer,
    kind: str,
    params: dict,
    errors: dict,
    reason: str,
) -> HttpResponse:
    param_errors = [message for field, message in errors.items() if field != "reason"]
    context = {
        "customer": customer,
        "kind": kind,
        "params": params,
        "question": ""
        if param_errors
        else confirmation_question(customer=customer, kind=kind, params=params),
        "param_errors": param_errors,
        "reason_error": errors.get("reason", ""),
        "reason": reason,
        "max_reason_length": services.MAX_REASON_LENGTH,
        # The body is the only source of a POST's target, so the form posts to the bare path.
        "form_url": request.path,
        # A plain form on the standalone page redirects to the action page after success; inside
        # another page the form posts with htmx and swaps in the action's status.
        "inline": bool(request.htmx),
        "overview_url": customer_overview_url(customer),
    }
    template = "actions/confirm.html#confirm" if request.htmx else "actions/confirm.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def confirmation_question(*, customer: Customer, kind: str, params: dict) -> str:
    """Return the sentence that states the action's scope; params are already valid."""
    if kind == RESTART:
        return (
            f"Restart {params['agent']} for customer {customer.customer_id}? "
            "This will interrupt current operations."
        )
    trial = selectors.trial_get_for_customer(customer=customer, trial_id=params["workflow_id"])
    return (
        f"Retry workflow {trial.trial_id} for customer {customer.customer_id} "
        f"from step {int(params['from_step'])} of {trial.total_steps}?"
    )


@require_GET
def action_detail(request: HttpRequest, action_id: str) -> HttpResponse:
    action = selectors.quick_action_get(action_id=action_id)
    if action is None:
        raise Http404(f"Quick action {action_id} not found.")
    return detail_render(request, action=action)


def detail_render(
    request: HttpRequest, *, action: QuickAction, announce_finished: bool = False
) -> HttpResponse:
    """Render an action's status; announce_finished is set by the request that created it."""
    context = {
        "action": action,
        "customer": action.customer,
        "heading": action_heading(action),
        "history": selectors.quick_action_history(action=action),
        "overview_url": customer_overview_url(action.customer),
        "next_retries": next_retries(action),
    }
    template = "actions/detail.html#status" if request.htmx else "actions/detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))

    # Only a poll of an unfinished action, or the request that ran it eagerly, can observe the
    # change to finished. So the event fires once, and reloading a finished action does not
    # refresh the overview again.
    observed_finish = request.GET.get("poll") or announce_finished
    if request.htmx and observed_finish and action.is_finished:
        response["HX-Trigger"] = json.dumps(
            {"quickActionFinished": {"action_id": action.action_id, "status": action.status}}
        )
    return response


ACTION_STATUS_PHRASES = {
    QuickAction.Status.PENDING: "is waiting to start",
    QuickAction.Status.RUNNING: "is running",
    QuickAction.Status.SUCCEEDED: "succeeded",
    QuickAction.Status.FAILED: "failed",
}


def action_heading(action: QuickAction) -> str:
    """Return a heading such as "Restart of WowMemory for customer cust-123 succeeded"."""
    return f"{services.quick_action_label(action)} {ACTION_STATUS_PHRASES[action.status]}"


def next_retries(action: QuickAction) -> list:
    """Return the trials to retry after a successful restart; empty for anything else."""
    if action.kind != RESTART or action.status != QuickAction.Status.SUCCEEDED:
        return []
    return selectors.trials_stuck_on_agent(customer=action.customer, agent=action.params["agent"])


@require_GET
def customer_actions(request: HttpRequest, customer_id: str) -> HttpResponse:
    customer = customer_get_or_404(customer_id)
    context = {
        "customer": customer,
        "actions": selectors.quick_action_list_for_customer(customer=customer),
        "agent_names": selectors.agent_names_for_customer(customer=customer),
        "retryable_trials": selectors.trials_retryable_for_customer(customer=customer),
        "overview_url": customer_overview_url(customer),
    }
    if not request.htmx:
        template = "actions/customer_actions.html"
    elif request.GET.get("part") == "list":
        template = "actions/customer_actions.html#list"
    else:
        template = "actions/customer_actions.html#panel"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def customer_get_or_404(customer_id: str) -> Customer:
    customer = selectors.customer_get(customer_id=customer_id)
    if customer is None:
        raise Http404(f"Customer {customer_id} not found.")
    return customer


def customer_overview_url(customer: Customer) -> str:
    return reverse("customer-overview", kwargs={"customer_id": customer.customer_id})
