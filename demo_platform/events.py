"""Platform state events for the help desk: their builders, and a sender that posts them.

The event shapes are the help desk's ingest contract (POST
/api/platform/helpdesk/ingest/events): customer.upserted, trial.progress and agent.status.
"""

import logging
import queue
import threading
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import requests

from demo_platform.workflow import STEPS
from demo_platform.world import CustomerProfile, TrialRun, World, agent_statuses_for

logger = logging.getLogger(__name__)

EVENTS_PATH = "/api/platform/helpdesk/ingest/events"
BATCH_SIZE = 200
# A batch that cannot be delivered is retried for this long, then dropped with an error log.
DELIVERY_DEADLINE_SECONDS = 60.0
QUEUE_LIMIT = 50_000


def isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def customer_event(profile: CustomerProfile) -> dict:
    return {
        "type": "customer.upserted",
        "customer": {
            "customer_id": profile.customer_id,
            "name": profile.name,
            "email": profile.email,
            "phone": profile.phone,
            "company": profile.company,
            "metadata": profile.metadata,
        },
    }


def trial_event(trial: TrialRun, *, occurred_at: datetime | None = None) -> dict:
    return {
        "type": "trial.progress",
        "trial_id": trial.trial_id,
        "customer_id": trial.customer_id,
        "plan": trial.plan,
        "current_step": trial.current_step,
        "total_steps": trial.total_steps,
        "step_name": trial.step_name,
        "status": trial.status,
        "detail": trial.detail,
        "agents": trial.agents,
        "occurred_at": isoformat(occurred_at or trial.last_activity_at),
    }


def agent_event(
    *, agent: str, status: str, version: str, occurred_at: datetime, customer_id: str | None = None
) -> dict:
    event = {
        "type": "agent.status",
        "agent": agent,
        "status": status,
        "version": version,
        "occurred_at": isoformat(occurred_at),
    }
    if customer_id is not None:
        event["customer_id"] = customer_id
    return event


def trial_history_events(trial: TrialRun) -> list[dict]:
    """Build the events of a trial's start and of entering its current step, before its state.

    The help desk takes a new trial's start time and a step's start time from the occurred_at
    of the event that first reports them.
    """
    started = {
        **trial_event(trial, occurred_at=trial.started_at),
        "status": "RUNNING",
        "current_step": 1,
        "step_name": STEPS[0].name,
        "detail": "Trial started.",
        "agents": [STEPS[0].agent],
    }
    events = [started]
    if trial.status != "COMPLETED" and trial.current_step > 1:
        entered = {
            **trial_event(trial, occurred_at=trial.step_started_at),
            "status": "RUNNING",
            "detail": f"Running step {trial.current_step}.",
        }
        events.append(entered)
    return events


def world_events(
    world: World, *, agent_versions: dict[str, str], with_history: bool = False
) -> list[dict]:
    """Build the events that bring the help desk to the world's state: customers, trials, agents.

    Agents are reported platform-wide as RUNNING (or DEGRADED under a platform-wide fault),
    then for each customer instance that a customer-scoped fault degrades. With history, each
    trial's start and current step are reported before its state, so their times are right.
    """
    events = [customer_event(profile) for profile in world.customers.values()]
    trials = sorted(world.trials.values(), key=lambda trial: trial.started_at)
    for trial in trials:
        # Old completed trials skip their history: their times matter little and the load
        # stays fast.
        if with_history and (trial.status != "COMPLETED" or trial.has_recent_history):
            events.extend(trial_history_events(trial))
        events.append(trial_event(trial))

    platform_statuses = agent_statuses_for(
        {key: fault for key, fault in world.faults.items() if fault.customer_id is None}, ""
    )
    for agent, status in platform_statuses.items():
        events.append(
            agent_event(
                agent=agent,
                status=status,
                version=agent_versions[agent],
                occurred_at=world.anchor,
            )
        )
    for fault in world.faults.values():
        if fault.customer_id is None:
            continue
        status = agent_statuses_for(world.faults, fault.customer_id)[fault.agent]
        events.append(
            agent_event(
                agent=fault.agent,
                status=status,
                version=agent_versions[fault.agent],
                occurred_at=fault.created_at,
                customer_id=fault.customer_id,
            )
        )
    return events


class EventSender:
    """Post events to the help desk from a background thread, in order, in batches.

    Delivery failures (the help desk not up yet, a timeout, a 5xx) are retried until the
    deadline and then logged and dropped, so the platform keeps running without the help desk.
    Subclasses post other JSON items by overriding PATH and body_for.
    """

    PATH = EVENTS_PATH

    def __init__(
        self,
        *,
        helpdesk_url: str,
        ingest_token: str,
        delivery_lock: AbstractContextManager | None = None,
    ):
        self.url = helpdesk_url.rstrip("/") + self.PATH
        # Shared with the OTLP exporters so the platform sends one request at a time.
        self.delivery_lock = delivery_lock or threading.Lock()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {ingest_token}"
        self.queue: queue.Queue[dict | None] = queue.Queue(maxsize=QUEUE_LIMIT)
        # Events queued but not yet delivered or dropped; flush() waits for zero.
        self.pending = 0
        self.condition = threading.Condition()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="event-sender", daemon=True)
        self.delivered = 0

    def start(self) -> None:
        self.thread.start()

    def send(self, events: list[dict]) -> None:
        for event in events:
            with self.condition:
                self.pending += 1
            try:
                self.queue.put_nowait(event)
            except queue.Full:
                logger.error("Send queue full, dropping item", extra={"path": self.PATH})
                self.settle(1)

    def settle(self, count: int) -> None:
        with self.condition:
            self.pending -= count
            self.condition.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was delivered or dropped; return False on timeout."""
        with self.condition:
            return self.condition.wait_for(lambda: self.pending == 0, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued for up to `timeout` seconds, then drop the rest and stop."""
        self.flush(timeout)
        self.stopping.set()
        self.queue.put(None)
        self.thread.join(timeout)

    def run(self) -> None:
        while True:
            event = self.queue.get()
            if event is None:
                return
            batch = [event]
            while len(batch) < BATCH_SIZE:
                try:
                    following = self.queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self.batch_deliver(batch)
                    return
                batch.append(following)
            self.batch_deliver(batch)

    def batch_deliver(self, batch: list[dict]) -> None:
        try:
            self.batch_deliver_with_retries(batch)
        finally:
            self.settle(len(batch))

    def batch_deliver_with_retries(self, batch: list[dict]) -> None:
        deadline = time.monotonic() + DELIVERY_DEADLINE_SECONDS
        delay = 0.5
        while True:
            outcome = self.batch_post(batch)
            if outcome != "retry":
                return
            if self.stopping.is_set() or time.monotonic() + delay > deadline:
                logger.error(
                    "Batch not delivered, dropping it",
                    extra={"path": self.PATH, "count": len(batch)},
                )
                return
            self.stopping.wait(delay)
            delay = min(delay * 2, 5.0)

    def body_for(self, batch: list[dict]) -> dict:
        return {"events": batch}

    def batch_post(self, batch: list[dict]) -> str:
        """Post one batch; return "done", or "retry" for a failure worth retrying."""
        try:
            with self.delivery_lock:
                response = self.session.post(self.url, json=self.body_for(batch), timeout=10)
        except requests.RequestException as error:
            logger.warning(
                "Delivery failed, will retry", extra={"path": self.PATH, "error": str(error)}
            )
            return "retry"
        if response.status_code >= 500 or response.status_code == 429:
            logger.warning(
                "Delivery failed, will retry",
                extra={"path": self.PATH, "status": response.status_code},
            )
            return "retry"
        if response.status_code != 200:
            logger.error(
                "Batch rejected by the help desk, dropping it",
                extra={
                    "path": self.PATH,
                    "status": response.status_code,
                    "body": response.text[:500],
                },
            )
            return "done"
        self.delivered += len(batch)
        rejected = response.json().get("rejected") or []
        if rejected:
            logger.warning(
                "Help desk rejected some items",
                extra={"path": self.PATH, "count": len(rejected), "first": rejected[0]},
            )
        return "done"
