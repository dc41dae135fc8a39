"""Schemas of the platform's state events and the per-event validation messages.

Ids (customer, trial, agent) with control characters are rejected, and NUL characters are
removed from free text and metadata, because PostgreSQL stores neither.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from customers.models import Agent, Trial
from telemetry.values import identifier_check, json_nul_strip, nul_strip, time_check


def _identifier_validate(value: str, info: ValidationInfo) -> str:
    return identifier_check(name=info.field_name or "id", value=value)


Identifier = Annotated[
    str, Field(min_length=1, max_length=128), AfterValidator(_identifier_validate)
]
AgentName = Identifier
Text = Annotated[str, AfterValidator(nul_strip)]
ShortText = Annotated[str, Field(max_length=256), AfterValidator(nul_strip)]
Step = Annotated[int, Field(ge=1, le=32767)]
TrialStatus = Literal[tuple(Trial.Status.values)]
AgentStatus = Literal[tuple(value for value in Agent.Status.values if value != "UNKNOWN")]


class EventModel(BaseModel):
    # Unknown fields are ignored, so the platform can add fields before the help desk reads them.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CustomerProfile(EventModel):
    customer_id: Identifier
    name: ShortText | None = None
    email: Annotated[str, Field(max_length=320), AfterValidator(nul_strip)] | None = None
    phone: Annotated[str, Field(max_length=64), AfterValidator(nul_strip)] | None = None
    company: ShortText | None = None
    metadata: Annotated[dict[str, Any], AfterValidator(json_nul_strip)] | None = None


class CustomerUpserted(EventModel):
    type: Literal["customer.upserted"]
    customer: CustomerProfile


class TrialProgress(EventModel):
    type: Literal["trial.progress"]
    trial_id: Identifier
    customer_id: Identifier
    plan: Annotated[str, Field(max_length=64), AfterValidator(nul_strip)] | None = None
    current_step: Step
    total_steps: Step | None = None
    step_name: Annotated[str, Field(max_length=128), AfterValidator(nul_strip)] | None = None
    status: TrialStatus
    detail: Text = ""
    agents: list[AgentName] = Field(default_factory=list)
    occurred_at: dt.datetime

    @model_validator(mode="after")
    def step_within_total(self) -> "TrialProgress":
        if self.total_steps is not None and self.current_step > self.total_steps:
            raise ValueError(
                f"current_step {self.current_step} is after total_steps {self.total_steps}: "
                "send a step between 1 and total_steps"
            )
        return self


class AgentStatusChanged(EventModel):
    type: Literal["agent.status"]
    agent: AgentName
    status: AgentStatus
    version: Annotated[str, Field(max_length=64), AfterValidator(nul_strip)] | None = None
    customer_id: Identifier | None = None
    occurred_at: dt.datetime


PlatformEventModel = CustomerUpserted | TrialProgress | AgentStatusChanged
PlatformEvent = Annotated[PlatformEventModel, Field(discriminator="type")]
EVENT_ADAPTER = TypeAdapter(PlatformEvent)
EVENT_TYPES = ("customer.upserted", "trial.progress", "agent.status")


def event_validate(*, event: Any, now: dt.datetime) -> PlatformEventModel:
    """Validate one event, raising ValueError with a message that names the field and the fix.

    occurred_at comes back in UTC, and is rejected when it lies more than a day after `now`.
    """
    if not isinstance(event, dict):
        raise ValueError(f"event is {type(event).__name__}: send a JSON object.")
    if event.get("type") not in EVENT_TYPES:
        raise ValueError(
            f"type {event.get('type')!r} is not supported: use one of {', '.join(EVENT_TYPES)}."
        )

    try:
        parsed = EVENT_ADAPTER.validate_python(event)
    except ValidationError as error:
        raise ValueError(_validation_message(error)) from None
    if isinstance(parsed, TrialProgress | AgentStatusChanged):
        if parsed.occurred_at.tzinfo is None:
            raise ValueError("occurred_at has no time zone: send ISO-8601 with Z or an offset.")
        parsed.occurred_at = time_check(name="occurred_at", moment=parsed.occurred_at, now=now)
    return parsed


def _validation_message(error: ValidationError) -> str:
    """Turn pydantic's errors into one sentence per field, skipping the discriminator tag."""
    messages = []
    for detail in error.errors(include_url=False):
        # The first location item is the event type chosen by the discriminator.
        location = [str(part) for part in detail["loc"][1:]]
        field = ".".join(location) or "event"
        if detail["type"] == "missing":
            messages.append(f"{field} is missing: add it.")
        elif detail["type"] == "value_error":
            messages.append(f"{detail['msg'].removeprefix('Value error, ').rstrip('.')}.")
        else:
            messages.append(
                f"{field} is invalid ({detail['msg']}); got {_shorten(detail.get('input'))}."
            )
    return " ".join(messages)


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
