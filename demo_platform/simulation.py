"""The simulation loop: runs due workflow steps and now and then starts a new trial."""

import logging
import threading
from datetime import timedelta

from demo_platform.events import trial_event
from demo_platform.state import PlatformState, utcnow
from demo_platform.world import TrialRun

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.1
# While fewer trials than this run, a new one starts every NEW_TRIAL_INTERVAL.
MIN_RUNNING_TRIALS = 3
NEW_TRIAL_INTERVAL = timedelta(seconds=30)
FIRST_LIVE_TRIAL_NUMBER = 90001


class Simulation:
    def __init__(self, *, state: PlatformState, start_new_trials: bool = True):
        self.state = state
        self.start_new_trials = start_new_trials
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="simulation", daemon=True)
        self.next_trial_number = FIRST_LIVE_TRIAL_NUMBER
        self.next_new_trial_at = utcnow() + NEW_TRIAL_INTERVAL

    def start(self) -> None:
        self.running_trials_schedule()
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def running_trials_schedule(self) -> None:
        """Give every trial the world left RUNNING a first due time a few seconds away."""
        now = utcnow()
        with self.state.lock:
            for trial in self.state.world.trials.values():
                if trial.status == "RUNNING" and trial.next_step_due is None:
                    delay = self.state.rng.uniform(1.0, 8.0)
                    trial.next_step_due = now + timedelta(seconds=delay)

    def run(self) -> None:
        logger.info("Simulation started")
        while not self.stopping.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:
                # The loop must outlive a bug in one step, or every trial would freeze.
                logger.exception("Simulation tick failed")
        logger.info("Simulation stopped")

    def tick(self) -> None:
        now = utcnow()
        with self.state.lock:
            due = [
                trial
                for trial in self.state.world.trials.values()
                if trial.status == "RUNNING"
                and trial.next_step_due is not None
                and trial.next_step_due <= now
            ]
            for trial in due:
                self.state.step_run(trial, now=now)
            if self.start_new_trials and now >= self.next_new_trial_at:
                self.next_new_trial_at = now + NEW_TRIAL_INTERVAL
                self.trial_start_if_quiet(now=now)

    def trial_start_if_quiet(self, *, now) -> None:
        trials = self.state.world.trials.values()
        running = sum(1 for trial in trials if trial.status == "RUNNING")
        if running >= MIN_RUNNING_TRIALS:
            return
        busy = {trial.customer_id for trial in trials if trial.status != "COMPLETED"}
        idle = [customer for customer in self.state.world.customers if customer not in busy]
        if not idle:
            return

        rng = self.state.rng
        customer_id = rng.choice(sorted(idle))
        profile = self.state.world.customers[customer_id]
        trial = TrialRun(
            trial_id=f"trial-wf-{self.next_trial_number}",
            customer_id=customer_id,
            plan=profile.metadata.get("plan", "standard"),
            status="RUNNING",
            current_step=1,
            trace_id=(rng.getrandbits(128) | 2) & ~1,
            root_span_id=rng.getrandbits(64) or 1,
            started_at=now,
            last_activity_at=now,
            step_started_at=now,
            detail="Running step 1.",
            next_step_due=now + timedelta(seconds=1),
        )
        self.next_trial_number += 1
        self.state.world.trials[trial.trial_id] = trial
        self.state.publisher.events_send([trial_event(trial)])
        logger.info("Trial started", extra={"trial_id": trial.trial_id, "customer_id": customer_id})
