"""JSON API for quick actions: request a restart or a retry, and read an action's status."""

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from actions import selectors, services
from actions.models import QuickAction
from helpdesk.api_errors import ErrorOut, error_body

router = Router(tags=["quick actions"])


# Examples for the type errors, so that a client sees a value it could send.
FIELD_EXAMPLES = {
    "agent_id": '"WowMemory"',
    "workflow_id": '"trial-wf-12345"',
    "reason": '"Connection pool exhausted"',
}


def json_text(value: Any) -> str:
    """Return the value as the client wrote it in JSON, for error messages."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def strict_string(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "string_type",
            "{field} {value} is not a string; send it as a JSON string, for example {example}.",
            {
                "field": info.field_name,
                "value": json_text(value),
                "example": FIELD_EXAMPLES[info.field_name],
            },
        )
    return value


def strict_step(value: Any) -> Any:
    # Lax parsing would read true as step 1 and "7" or 7.0 as step 7. A retry restarts real work,
    # so only a JSON integer is taken as a step.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError(
            "int_type",
            "from_step {value} is not an integer; send the step number as a JSON integer, "
            "for example 7.",
            {"value": json_text(value)},
        )
    return value


class RestartAgentIn(Schema):
    agent_id: str
    reason: str

    _strings = field_validator("agent_id", "reason", mode="before")(strict_string)


class RetryWorkflowIn(Schema):
    workflow_id: str
    from_step: int
    reason: str

    _strings = field_validator("workflow_id", "reason", mode="before")(strict_string)
    _step = field_validator("from_step", mode="before")(strict_step)


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
        message = f"Customer {customer_id!r} not found; check the customer id."
        return Status(404, error_body(message=message))

    try:
        action = services.quick_action_request(
            customer=customer,
            kind=kind,
            params=params,
            reason=reason,
            requested_by=request.user,
        )
    except ValidationError as error:
        errors = [
            {"field": field, "message": " ".join(messages)}
            for field, messages in error.message_dict.items()
        ]
        message = " ".join(item["message"] for item in errors)
        return Status(422, error_body(message=message, errors=errors))

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
        message = f"Quick action {action_id!r} not found; check the action id."
        return Status(404, error_body(message=message))

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
