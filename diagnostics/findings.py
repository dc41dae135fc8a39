"""Findings: what a detector saw in an evidence snapshot, each with its evidence line."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Signal(StrEnum):
    WORKFLOW_STUCK = "workflow_stuck"
    WORKFLOW_FAILED = "workflow_failed"
    STEP_FAILURES = "step_failures"
    # A stalled step with no agent call recorded since it started: nothing picked the work up.
    STEP_WITHOUT_CALLS = "step_without_calls"
    TIMEOUTS = "timeouts"
    ERROR_RATE = "error_rate"
    RETRIES = "retries"
    ERROR_LOG = "error_log"
    ERROR_MESSAGE = "error_message"
    AGENT_DOWN = "agent_down"
    AGENT_RESTARTING = "agent_restarting"
    AGENT_DEGRADED = "agent_degraded"
    VERSION_CHANGE = "version_change"
    METRIC_SATURATION = "metric_saturation"
    # A metric's recent level well above its level over the baseline window.
    METRIC_SHIFT = "metric_shift"
    ALERT = "alert"
    # Successful calls of one operation much slower than over the baseline window.
    LATENCY_SHIFT = "latency_shift"
    # A mined error log template not seen before the recent window, or far more frequent in it.
    TEMPLATE_NEW = "template_new"
    TEMPLATE_BURST = "template_burst"


SYMPTOM_SIGNALS = (
    Signal.WORKFLOW_STUCK,
    Signal.WORKFLOW_FAILED,
    Signal.STEP_FAILURES,
    Signal.STEP_WITHOUT_CALLS,
    Signal.TIMEOUTS,
    Signal.ERROR_RATE,
)
TEXT_SIGNALS = (Signal.ERROR_LOG, Signal.ERROR_MESSAGE)
TEMPLATE_SIGNALS = (Signal.TEMPLATE_NEW, Signal.TEMPLATE_BURST)


@dataclass(frozen=True)
class Finding:
    signal: Signal
    # The evidence line shown to the operator. Parts from agents are masked but not escaped.
    text: str
    agent: str | None = None
    operation: str | None = None
    workflow_id: str | None = None
    step: int | None = None
    observed_at: datetime | None = None
    # For text signals: the masked template that groups messages, and one raw example.
    template: str = ""
    example: str = ""
    data: dict = field(default_factory=dict, compare=False)
