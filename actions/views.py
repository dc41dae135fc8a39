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


@require_http_methods(["GET", "POST"])
def restart_confirm(request: HttpRequest, customer_id: str) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    params = {"agent": source.get("agent", "")}
    return confirm_or_request(
        request, customer=customer_get_or_404(customer_id), kind=RESTART, params=params
    )


@require_http_methods(["GET", "POST"])
def retry_confirm(request: HttpRequest, customer_id: str) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    params = {"workflow_id": source.get("workflow_id", ""), "from_step": source.get("from_step")}
    return confirm_or_request(
        request, customer=customer_get_or_404(customer_id), kind=RETRY, params=params
    )


def confirm_or_request(
    request: HttpRequest, *, customer: Customer, kind: str, params: dict
) -> HttpResponse:
    if request.method == "GET":
        errors: dict[str, str] = {}
        services.quick_action_params_validate(
            customer=customer, kind=kind, params=params, errors=errors
        )
        return confirm_render(
            request, customer=customer, kind=kind, params=params, errors=errors, reason=""
        )

    reason = request.POST.get("reason", "")
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
        return detail_render(request, action=action)
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
        "form_url": request.get_full_path(),
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


def detail_render(request: HttpRequest, *, action: QuickAction) -> HttpResponse:
    context = {
        "action": action,
        "customer": action.customer,
        "history": selectors.quick_action_history(action=action),
        "overview_url": customer_overview_url(action.customer),
    }
    template = "actions/detail.html#status" if request.htmx else "actions/detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))

    # Only a poll of an unfinished action can observe the change to finished, so the event fires
    # once, and reloading a finished action does not refresh the overview again.
    if request.htmx and request.GET.get("poll") and action.is_finished:
        response["HX-Trigger"] = json.dumps(
            {"quickActionFinished": {"action_id": action.action_id, "status": action.status}}
        )
    return response


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
