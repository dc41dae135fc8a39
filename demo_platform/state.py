"""The platform's live state and the operations of the control API.

One lock guards the world: the HTTP handler threads and the simulation thread take it for every
read and change. Telemetry and events are handed to the publisher while the lock is held, so
the help desk receives them in the order the changes happened.
"""

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from demo_platform.alerts import fault_alert
from demo_platform.events import agent_event, trial_event
from demo_platform.workflow import (
    AGENT_VERSIONS,
    AGENTS,
    FAULT_KINDS,
    TOTAL_STEPS,
    InteractionRecord,
    LogLine,
    step_call_build,
    step_get,
)
from demo_platform.world import Fault, TrialRun, World, agent_statuses_for, trial_detail_for_fault

logger = logging.getLogger(__name__)

RESTART_SECONDS = 1.0
RETRY_STEP_SECONDS = 0.3


class PlatformError(Exception):
    """A control API request that cannot be carried out, with its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Publisher(Protocol):
    def interaction_emit(self, record: InteractionRecord) -> None: ...

    def events_send(self, events: list[dict]) -> None: ...

    def alerts_send(self, alerts: list[dict]) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RestartResult:
    customer_id: str
    agent: str
    status: str
    restarted_at: datetime
    duration_ms: int


class PlatformState:
    def __init__(self, *, world: World, publisher: Publisher, rng: random.Random | None = None):
        self.world = world
        self.publisher = publisher
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.restarting: set[tuple[str, str]] = set()
        self.next_fault_number = len(world.faults) + 1

    # Reads

    def customer_require(self, customer_id: str) -> None:
        if customer_id not in self.world.customers:
            raise PlatformError(404, f"Customer {customer_id!r} not found.")

    def agent_require(self, agent: str) -> None:
        if agent not in AGENT_VERSIONS:
            known = ", ".join(AGENTS)
            raise PlatformError(404, f"Agent {agent!r} not found. Known agents: {known}.")

    def trial_require(self, workflow_id: str) -> TrialRun:
        trial = self.world.trials.get(workflow_id)
        if trial is None:
            raise PlatformError(404, f"Workflow {workflow_id!r} not found.")
        return trial

    def agent_status(self, *, customer_id: str, agent: str) -> str:
        if (customer_id, agent) in self.restarting:
            return "RESTARTING"
        return agent_statuses_for(self.world.faults, customer_id)[agent]

    def customer_agents(self, *, customer_id: str) -> dict:
        with self.lock:
            self.customer_require(customer_id)
            agents = [self.agent_view(customer_id=customer_id, agent=agent) for agent in AGENTS]
        return {"customer_id": customer_id, "agents": agents}

    def agent_view(self, *, customer_id: str, agent: str) -> dict:
        with self.lock:
            self.customer_require(customer_id)
            self.agent_require(agent)
            status = self.agent_status(customer_id=customer_id, agent=agent)
        return {"agent": agent, "status": status, "version": AGENT_VERSIONS[agent]}

    def workflow_view(self, *, workflow_id: str) -> dict:
        with self.lock:
            trial = self.trial_require(workflow_id)
            return workflow_body(trial)

    def faults_active(self) -> list[Fault]:
        with self.lock:
            return list(self.world.faults.values())

    def fault_list(self) -> dict:
        with self.lock:
            return {"faults": [fault_body(fault) for fault in self.world.faults.values()]}

    def active_fault(self, *, customer_id: str, agent: str, operation: str) -> Fault | None:
        for fault in self.world.faults.values():
            if fault.agent != agent or fault.customer_id not in (None, customer_id):
                continue
            if operation in FAULT_KINDS[fault.kind].operations:
                return fault
        return None

    # Agent restarts

    def agent_restart(self, *, customer_id: str, agent: str, reason: str) -> RestartResult:
        """Restart one customer's instance of an agent, which clears that agent's faults there.

        The restart takes about a second, reported as RESTARTING then RUNNING; a
        `restart_fails` fault on the instance makes it fail with 503 instead.
        """
        began = time.monotonic()
        started_at = utcnow()
        with self.lock:
            self.customer_require(customer_id)
            self.agent_require(agent)
            key = (customer_id, agent)
            if key in self.restarting:
                raise PlatformError(409, f"{agent} for {customer_id} is already restarting.")
            self.restarting.add(key)
            self.agent_status_publish(customer_id=customer_id, agent=agent, status="RESTARTING")
        logger.info("Agent restart started", extra={"customer_id": customer_id, "agent": agent})

        time.sleep(RESTART_SECONDS)

        with self.lock:
            self.restarting.discard(key)
            failing = self.restart_blocking_fault(customer_id=customer_id, agent=agent)
            if failing is None:
                self.faults_clear_for(customer_id=customer_id, agent=agent)
            status = self.agent_status(customer_id=customer_id, agent=agent)
            self.agent_status_publish(customer_id=customer_id, agent=agent, status=status)
            self.restart_span_emit(
                customer_id=customer_id, agent=agent, reason=reason, started_at=started_at,
                failed=failing is not None,
            )  # fmt: skip
        duration_ms = int((time.monotonic() - began) * 1000)
        if failing is not None:
            logger.warning(
                "Agent restart failed", extra={"customer_id": customer_id, "agent": agent}
            )
            raise PlatformError(
                503,
                f"Restart of {agent} for {customer_id} failed: "
                "the health check did not pass after the restart.",
            )
        logger.info("Agent restart finished", extra={"customer_id": customer_id, "agent": agent})
        return RestartResult(customer_id, agent, "RUNNING", utcnow(), duration_ms)

    def restart_blocking_fault(self, *, customer_id: str, agent: str) -> Fault | None:
        for fault in self.world.faults.values():
            applies = fault.customer_id in (None, customer_id)
            if fault.kind == "restart_fails" and fault.agent == agent and applies:
                return fault
        return None

    def faults_clear_for(self, *, customer_id: str, agent: str) -> None:
        cleared = [
            fault_id
            for fault_id, fault in self.world.faults.items()
            if fault.customer_id == customer_id and fault.agent == agent
        ]
        for fault_id in cleared:
            fault = self.world.faults.pop(fault_id)
            self.fault_alert_publish(fault, resolved_at=utcnow())
            logger.info("Fault cleared by restart", extra={"fault_id": fault_id})

    def restart_span_emit(
        self, *, customer_id: str, agent: str, reason: str, started_at: datetime, failed: bool
    ) -> None:
        ended_at = utcnow()
        record = InteractionRecord(
            trace_id=self.rng.getrandbits(128) or 1,
            span_id=self.rng.getrandbits(64) or 1,
            parent_span_id=None,
            agent=agent,
            operation="restart_agent",
            customer_id=customer_id,
            trial_id=None,
            step=None,
            started_at=started_at,
            duration_ms=int((ended_at - started_at).total_seconds() * 1000),
            request_body={"customer_id": customer_id, "agent": agent, "reason": reason},
            response_body=None if failed else {"status": "RUNNING"},
            error_type="RestartFailedError" if failed else "",
            error_message="Health check did not pass after restart" if failed else "",
            logs=(
                LogLine(0, "INFO", f"Restarting {agent} for {customer_id}: {reason}"),
                LogLine(
                    int((ended_at - started_at).total_seconds() * 1000),
                    "ERROR" if failed else "INFO",
                    "ERROR: Health check failed after restart" if failed else "Restart complete",
                ),
            ),
        )
        self.publisher.interaction_emit(record)

    def agent_status_publish(self, *, customer_id: str | None, agent: str, status: str) -> None:
        event = agent_event(
            agent=agent,
            status=status,
            version=AGENT_VERSIONS[agent],
            occurred_at=utcnow(),
            customer_id=customer_id,
        )
        self.publisher.events_send([event])

    # Workflow retries

    def workflow_retry(self, *, workflow_id: str, from_step: object) -> dict:
        """Resume a workflow from `from_step`; the simulation runs it at retry pace."""
        with self.lock:
            trial = self.trial_require(workflow_id)
            step = from_step_validate(from_step, trial=trial)
            if trial.status == "COMPLETED":
                raise PlatformError(409, f"Workflow {workflow_id} is already completed.")
            if step > trial.current_step:
                raise PlatformError(
                    409,
                    f"from_step {step} is after the current step {trial.current_step} of "
                    f"{workflow_id}; retry from step {trial.current_step} or earlier.",
                )

            now = utcnow()
            trial.status = "RUNNING"
            trial.current_step = step
            trial.attempts_at_step = 0
            trial.retrying = True
            trial.step_started_at = now
            trial.last_activity_at = now
            trial.next_step_due = now + timedelta(seconds=RETRY_STEP_SECONDS)
            trial.detail = f"Retrying from step {step} ({step_get(step).name})."
            self.publisher.events_send([trial_event(trial)])
            logger.info("Workflow retry started", extra={"workflow_id": workflow_id, "step": step})
            return workflow_body(trial)

    # Faults

    def fault_inject(self, *, kind: object, agent: object, customer_id: object) -> dict:
        with self.lock:
            fault_kind = FAULT_KINDS.get(kind) if isinstance(kind, str) else None
            if fault_kind is None:
                known = ", ".join(FAULT_KINDS)
                raise PlatformError(422, f"Unknown fault kind {kind!r}. Known kinds: {known}.")
            agent = agent_for_fault(fault_kind, agent)
            if customer_id is not None:
                if not isinstance(customer_id, str):
                    raise PlatformError(422, "customer_id must be a string or absent.")
                self.customer_require(customer_id)

            fault = Fault(
                f"fault-{self.next_fault_number}", fault_kind.name, agent, customer_id, utcnow()
            )
            self.next_fault_number += 1
            self.world.faults[fault.fault_id] = fault
            self.fault_status_publish(fault)
            self.fault_alert_publish(fault)
            logger.info("Fault injected", extra={"fault_id": fault.fault_id, "kind": fault.kind})
            return fault_body(fault)

    def fault_clear(self, *, fault_id: str) -> dict:
        with self.lock:
            fault = self.world.faults.pop(fault_id, None)
            if fault is None:
                raise PlatformError(404, f"Fault {fault_id!r} not found.")
            self.fault_status_publish(fault)
            self.fault_alert_publish(fault, resolved_at=utcnow())
            logger.info("Fault cleared", extra={"fault_id": fault_id})
            return fault_body(fault)

    def fault_alert_publish(self, fault: Fault, *, resolved_at: datetime | None = None) -> None:
        """Send the fault's alert, firing or resolved, when its kind has one."""
        alert = fault_alert(fault, resolved_at=resolved_at)
        if alert is not None:
            self.publisher.alerts_send([alert])

    def fault_status_publish(self, fault: Fault) -> None:
        if fault.customer_id is None:
            status = agent_statuses_for(
                {k: f for k, f in self.world.faults.items() if f.customer_id is None}, ""
            )[fault.agent]
        else:
            status = self.agent_status(customer_id=fault.customer_id, agent=fault.agent)
        self.agent_status_publish(customer_id=fault.customer_id, agent=fault.agent, status=status)

    # Simulation steps

    def step_run(self, trial: TrialRun, *, now: datetime) -> None:
        """Run the trial's current step once: the caller holds the lock and the step is due."""
        step = step_get(trial.current_step)
        active = self.active_fault(
            customer_id=trial.customer_id, agent=step.agent, operation=step.operation
        )
        fault_kind = FAULT_KINDS[active.kind] if active else None
        duration = timedelta(milliseconds=fault_kind.duration_ms) if fault_kind else timedelta()
        # A call that timed out has just ended: it started its full duration ago.
        record = step_call_build(
            trial=trial.context,
            step=step,
            started_at=now - duration,
            span_id=trial.root_span_id if step.number == 2 else self.rng.getrandbits(64) or 1,
            rng=self.rng,
            fault=fault_kind,
            retry_count=trial.attempts_at_step,
        )
        self.publisher.interaction_emit(record)
        trial.last_activity_at = record.ended_at

        if fault_kind is not None:
            trial.attempts_at_step += 1
            trial.status = fault_kind.trial_outcome
            trial.detail = trial_detail_for_fault(fault_kind.name, step.number)
            trial.next_step_due = None
            trial.retrying = False
        elif step.number == TOTAL_STEPS:
            trial.status = "COMPLETED"
            trial.completed_at = record.ended_at
            trial.detail = "Trial activated."
            trial.next_step_due = None
            trial.retrying = False
        else:
            trial.current_step += 1
            trial.attempts_at_step = 0
            trial.step_started_at = record.ended_at
            trial.detail = f"Running step {trial.current_step}."
            trial.next_step_due = now + self.step_interval(trial)
        self.publisher.events_send([trial_event(trial)])

    def step_interval(self, trial: TrialRun) -> timedelta:
        if trial.retrying:
            return timedelta(seconds=RETRY_STEP_SECONDS)
        return timedelta(seconds=self.rng.uniform(5.0, 10.0))


def from_step_validate(value: object, *, trial: TrialRun) -> int:
    if value is None:
        return trial.current_step
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlatformError(422, f"from_step must be an integer from 1 to {trial.total_steps}.")
    if not 1 <= value <= trial.total_steps:
        raise PlatformError(
            422, f"from_step {value} is out of range: use 1 to {trial.total_steps}."
        )
    return value


def agent_for_fault(kind, agent: object) -> str:
    if agent is None:
        if kind.agent is None:
            raise PlatformError(422, f"Fault kind {kind.name!r} needs an agent.")
        return kind.agent
    if not isinstance(agent, str) or agent not in AGENT_VERSIONS:
        known = ", ".join(AGENTS)
        raise PlatformError(422, f"Unknown agent {agent!r}. Known agents: {known}.")
    if kind.agent is not None and agent != kind.agent:
        raise PlatformError(422, f"Fault kind {kind.name!r} lives in {kind.agent}, not in {agent}.")
    return agent


def workflow_body(trial: TrialRun) -> dict:
    return {
        "workflow_id": trial.trial_id,
        "customer_id": trial.customer_id,
        "status": trial.status,
        "current_step": trial.current_step,
        "total_steps": trial.total_steps,
        "step_name": trial.step_name,
        "detail": trial.detail,
    }


def fault_body(fault: Fault) -> dict:
    return {
        "fault_id": fault.fault_id,
        "kind": fault.kind,
        "agent": fault.agent,
        "customer_id": fault.customer_id,
        "description": fault.description,
        "created_at": fault.created_at.isoformat().replace("+00:00", "Z"),
    }
