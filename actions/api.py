"""JSON API for quick actions: request a restart or a retry, and read an action's status."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status

from actions import selectors, services
from actions.models import QuickAction

router = Router(tags=["quick actions"])


class RestartAgentIn(Schema):
    agent_id: str
    reason: str


class RetryWorkflowIn(Schema):
    workflow_id: str
    from_step: int
    reason: str


class ActionAcceptedOut(Schema):
    action_id: str
    status: str
    estimated_duration_seconds: int


class ActionOut(Schema):
    action_id: str
    kind: str
    status: str
    params: dict
    reason: str
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict
    error: str


class ErrorOut(Schema):
    message: str
    errors: dict[str, str] | None = None


ERROR_RESPONSES = {404: ErrorOut, 422: ErrorOut}


@router.post(
    "customers/{customer_id}/actions/restart-agent",
    response={202: ActionAcceptedOut, **ERROR_RESPONSES},
    url_name="api-action-restart-agent",
)
def restart_agent_api(request: HttpRequest, customer_id: str, payload: RestartAgentIn):
    """Request a restart of one agent for the customer; a worker runs it after the response."""
    params = {"agent": payload.agent_id}
    return action_request(
        request,
        customer_id=customer_id,
        kind=QuickAction.Kind.RESTART_AGENT,
        params=params,
        reason=payload.reason,
    )


@router.post(
    "customers/{customer_id}/actions/retry-workflow",
    response={202: ActionAcceptedOut, **ERROR_RESPONSES},
    url_name="api-action-retry-workflow",
)
def retry_workflow_api(request: HttpRequest, customer_id: str, payload: RetryWorkflowIn):
    """Request a retry of the customer's trial workflow from a step."""
    params = {"workflow_id": payload.workflow_id, "from_step": payload.from_step}
    return action_request(
        request,
        customer_id=customer_id,
        kind=QuickAction.Kind.RETRY_WORKFLOW,
        params=params,
        reason=payload.reason,
    )


def action_request(request: HttpRequest, *, customer_id: str, kind: str, params: dict, reason: str):
    customer = selectors.customer_get(customer_id=customer_id)
    if customer is None:
        return Status(
            404, {"message": f"Customer {customer_id!r} not found; check the customer id."}
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
        return Status(422, {"message": " ".join(errors.values()), "errors": errors})

    return Status(
        202,
        {
            "action_id": action.action_id,
            "status": action.status,
            "estimated_duration_seconds": services.ESTIMATED_DURATION_SECONDS[action.kind],
        },
    )


@router.get(
    "actions/{action_id}",
    response={200: ActionOut, 404: ErrorOut},
    url_name="api-action-detail",
)
def action_detail_api(request: HttpRequest, action_id: str):
    """Return an action's status, result or error, and who requested it when and why."""
    action = selectors.quick_action_get(action_id=action_id)
    if action is None:
        return Status(
            404, {"message": f"Quick action {action_id!r} not found; check the action id."}
        )

    return Status(
        200,
        {
            "action_id": action.action_id,
            "kind": action.kind,
            "status": action.status,
            "params": action.params,
            "reason": action.reason,
            "requested_by": action.requested_by.get_username(),
            "requested_at": action.requested_at,
            "started_at": action.started_at,
            "finished_at": action.finished_at,
            "result": action.result,
            "error": action.error,
        },
    )
