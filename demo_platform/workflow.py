"""The trial workflow, the agents that run it and the faults that break it.

Everything here is plain data plus one builder, `step_call_build`, that turns one step of one
trial into the record of the agent call that executed it. The world builder uses it to write the
demo's history and the simulation uses it to run trials live, so both produce the same telemetry.
"""

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

AGENT_VERSIONS = {
    "WowMemory": "0.4.2",
    "WowOrchestrator": "2.3.1",
    "WowCache": "1.8.0",
    "WowDomain": "1.2.4",
    "WowAPI": "3.1.0",
}
AGENTS = tuple(AGENT_VERSIONS)


@dataclass(frozen=True)
class WorkflowStep:
    number: int
    name: str
    agent: str
    operation: str
    # Median duration of a successful call, in milliseconds.
    typical_ms: int


STEPS = (
    WorkflowStep(1, "capture_signup_context", "WowMemory", "store_context", 85),
    WorkflowStep(2, "start_trial_workflow", "WowOrchestrator", "start_trial_workflow", 120),
    WorkflowStep(3, "validate_account", "WowAPI", "validate_account", 60),
    WorkflowStep(4, "provision_workspace", "WowDomain", "provision_workspace", 340),
    WorkflowStep(5, "warm_cache", "WowCache", "warm_cache", 45),
    WorkflowStep(6, "schedule_agent_tasks", "WowOrchestrator", "dispatch_tasks", 150),
    WorkflowStep(7, "initialize_agent_context", "WowMemory", "retrieve_context", 95),
    WorkflowStep(8, "configure_domain_model", "WowDomain", "configure_domain", 210),
    WorkflowStep(9, "register_api_keys", "WowAPI", "issue_api_key", 70),
    WorkflowStep(10, "seed_cache", "WowCache", "cache_put", 30),
    WorkflowStep(11, "index_knowledge_base", "WowMemory", "index_documents", 450),
    WorkflowStep(12, "load_sample_data", "WowDomain", "load_sample_data", 380),
    WorkflowStep(13, "verify_api_access", "WowAPI", "verify_access", 55),
    WorkflowStep(14, "run_health_checks", "WowOrchestrator", "run_health_checks", 160),
    WorkflowStep(15, "activate_trial", "WowOrchestrator", "activate_trial", 110),
)
TOTAL_STEPS = len(STEPS)


def step_get(number: int) -> WorkflowStep:
    return STEPS[number - 1]


@dataclass(frozen=True)
class LogLine:
    # Milliseconds after the start of the call the line belongs to.
    offset_ms: int
    severity: str
    body: str


@dataclass(frozen=True)
class FaultKind:
    """A kind of fault the demo can inject, and what it does to the calls it affects."""

    name: str
    # The agent the fault lives in; None when the caller names the agent.
    agent: str | None
    description: str
    # Operations that fail while the fault is active; empty for faults that act on restarts.
    operations: frozenset[str] = frozenset()
    # Trial status after an affected step: STUCK waits for an operator, FAILED has given up.
    trial_outcome: str = "STUCK"
    error_type: str = ""
    error_message: str = ""
    duration_ms: int = 0
    # Calls the agent makes before it gives up; each one becomes its own span.
    attempts: int = 1
    logs: tuple[LogLine, ...] = ()
    attributes: dict = field(default_factory=dict)
    # Agent status reported for the affected instance while the fault is active.
    agent_status: str = "DEGRADED"
    # The Alertmanager alert the platform's monitoring fires while the fault is active; no
    # alert when alert_name is empty.
    alert_name: str = ""
    alert_severity: str = "warning"
    alert_summary: str = ""


FAULT_KINDS = {
    kind.name: kind
    for kind in (
        FaultKind(
            name="db_pool_exhausted",
            agent="WowMemory",
            description="WowMemory's database connection pool is exhausted (95/100 in use).",
            operations=frozenset({"retrieve_context"}),
            trial_outcome="STUCK",
            error_type="TimeoutError",
            error_message="Database connection timeout after 30s",
            duration_ms=30002,
            attempts=3,
            logs=(
                LogLine(0, "INFO", "Connecting to database..."),
                LogLine(
                    5000, "WARN", "Connection pool wowmemory-primary: 95/100 connections in use"
                ),
                LogLine(30001, "ERROR", "ERROR: Connection timeout"),
            ),
            attributes={
                "db.system.name": "postgresql",
                "db.client.connection.pool.name": "wowmemory-primary",
                "db.client.connection.count": 95,
                "db.client.connection.max": 100,
            },
            alert_name="DatabasePoolExhausted",
            alert_severity="critical",
            alert_summary=(
                "WowMemory database connection pool wowmemory-primary is exhausted: "
                "95/100 connections in use"
            ),
        ),
        FaultKind(
            name="queue_backlog",
            agent="WowOrchestrator",
            description="orchestration.tasks is backed up (250 pending); tasks are not picked up.",
            operations=frozenset({"dispatch_tasks"}),
            trial_outcome="STUCK",
            error_type="QueueTimeout",
            error_message="Task not picked up from orchestration.tasks within 15s (250 pending)",
            duration_ms=15004,
            attempts=2,
            logs=(
                LogLine(0, "INFO", "Publishing task to orchestration.tasks"),
                LogLine(2, "WARN", "Queue orchestration.tasks has 250 pending tasks"),
                LogLine(15003, "ERROR", "ERROR: Task not acknowledged within 15s"),
            ),
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.destination.name": "orchestration.tasks",
                "messaging.queue.pending": 250,
                "messaging.queue.consumer_last_seen_s": 300,
            },
            alert_name="QueueBacklog",
            alert_severity="critical",
            alert_summary=(
                "orchestration.tasks has 250 pending messages and no consumer for 5 minutes"
            ),
        ),
        FaultKind(
            name="rate_limited",
            agent="WowAPI",
            description="The upstream key service returns 429 Too Many Requests to WowAPI.",
            operations=frozenset({"issue_api_key"}),
            trial_outcome="FAILED",
            error_type="RateLimitError",
            error_message="429 Too Many Requests: rate limit of 100 requests per minute exceeded",
            duration_ms=230,
            attempts=1,
            logs=(
                LogLine(0, "INFO", "Requesting API key from key service"),
                LogLine(40, "WARN", "Key service answered 429, retrying in 50ms (retry 1 of 3)"),
                LogLine(110, "WARN", "Key service answered 429, retrying in 50ms (retry 2 of 3)"),
                LogLine(180, "WARN", "Key service answered 429, retrying in 50ms (retry 3 of 3)"),
                LogLine(229, "ERROR", "ERROR: Giving up after 3 retries: 429 Too Many Requests"),
            ),
            attributes={"http.response.status_code": 429, "http.response.header.retry-after": "60"},
            alert_name="UpstreamRateLimited",
            alert_summary="WowAPI's key service returns 429 Too Many Requests",
        ),
        FaultKind(
            name="cache_corruption",
            agent="WowCache",
            description="A WowCache segment is corrupt: reads fail their checksum.",
            operations=frozenset({"warm_cache"}),
            trial_outcome="FAILED",
            error_type="CacheCorruptionError",
            error_message=(
                "Checksum mismatch in cache segment seg-17: expected 9f2c41d0, got 00000000"
            ),
            duration_ms=48,
            attempts=1,
            logs=(
                LogLine(0, "INFO", "Loading cache segment seg-17"),
                LogLine(47, "ERROR", "ERROR: Checksum mismatch in cache segment seg-17"),
            ),
            attributes={"cache.segment": "seg-17"},
            alert_name="CacheSegmentCorrupt",
            alert_severity="critical",
            alert_summary="WowCache segment seg-17 fails its checksum",
        ),
        FaultKind(
            name="restart_fails",
            agent=None,
            description="Restarts of the agent fail their health check (control API: 503).",
            agent_status="DEGRADED",
        ),
    )
}


@dataclass
class InteractionRecord:
    """One agent call, ready to become a span and its log records."""

    trace_id: int
    span_id: int
    parent_span_id: int | None
    agent: str
    operation: str
    customer_id: str
    trial_id: str | None
    step: int | None
    started_at: datetime
    duration_ms: int
    request_body: dict | None
    response_body: dict | None
    error_type: str = ""
    error_message: str = ""
    retry_count: int = 0
    attributes: dict = field(default_factory=dict)
    logs: tuple[LogLine, ...] = ()

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(milliseconds=self.duration_ms)

    @property
    def failed(self) -> bool:
        return bool(self.error_type)


@dataclass(frozen=True)
class TrialContext:
    """The trial fields that a step call uses."""

    customer_id: str
    trial_id: str
    plan: str
    trace_id: int
    # Span id of the start_trial_workflow call, the parent of every later step.
    root_span_id: int
    context_id: str


def context_id_for(trial_id: str) -> str:
    return "ctx-" + trial_id.rsplit("-", 1)[-1]


def step_bodies(*, step: WorkflowStep, trial: TrialContext) -> tuple[dict, dict]:
    """Build the request and response bodies of a successful call of this step."""
    base = {"customer_id": trial.customer_id, "workflow_id": trial.trial_id, "step": step.number}
    bodies = {
        "store_context": (
            {"customer_id": trial.customer_id, "text": f"Customer wants {trial.plan} plan"},
            {"status": "stored", "context_id": trial.context_id},
        ),
        "start_trial_workflow": (
            {"customer_id": trial.customer_id, "plan": trial.plan},
            {"workflow_id": trial.trial_id, "status": "started"},
        ),
        "retrieve_context": (
            {"context_id": trial.context_id},
            {"context_id": trial.context_id, "status": "loaded", "items": 12},
        ),
        "dispatch_tasks": (
            {**base, "queue": "orchestration.tasks", "tasks": 4},
            {"status": "dispatched", "tasks": 4},
        ),
        "issue_api_key": (
            {**base, "scopes": ["agents:run", "agents:read"]},
            {"status": "issued", "key_id": "key-" + trial.trial_id.rsplit("-", 1)[-1]},
        ),
    }
    return bodies.get(step.operation, (base, {"status": "ok"}))


def step_call_build(
    *,
    trial: TrialContext,
    step: WorkflowStep,
    started_at: datetime,
    span_id: int,
    rng: random.Random,
    fault: FaultKind | None = None,
    retry_count: int = 0,
) -> InteractionRecord:
    """Build the record of one call of `step`, failing as `fault` defines when one is given."""
    request_body, response_body = step_bodies(step=step, trial=trial)
    parent = None if step.number <= 2 else trial.root_span_id
    trace_id = trial.trace_id
    if step.number == 1:
        # The signup context is stored before the workflow exists, in a trace of its own.
        trace_id = trial.trace_id ^ 1
    record = InteractionRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        agent=step.agent,
        operation=step.operation,
        customer_id=trial.customer_id,
        trial_id=trial.trial_id,
        step=step.number,
        started_at=started_at,
        duration_ms=max(5, int(rng.gauss(step.typical_ms, step.typical_ms * 0.15))),
        request_body=request_body,
        response_body=response_body,
        retry_count=retry_count,
        attributes={"workflow.step.name": step.name},
        logs=(LogLine(0, "INFO", f"{step.operation} started for {trial.customer_id}"),),
    )
    if fault is not None:
        fault_apply(record=record, fault=fault, rng=rng)
    return record


def fault_apply(*, record: InteractionRecord, fault: FaultKind, rng: random.Random) -> None:
    record.duration_ms = fault.duration_ms + rng.randint(0, 3)
    record.response_body = None
    record.error_type = fault.error_type
    record.error_message = fault.error_message
    record.attributes = {**record.attributes, **fault.attributes}
    record.logs = fault.logs
    if fault.name == "rate_limited":
        record.retry_count = max(record.retry_count, 3)


def body_to_json(body: dict | None) -> str:
    return "null" if body is None else json.dumps(body, sort_keys=True)
