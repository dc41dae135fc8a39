"""The demo world: customers, their trials, active faults and the history of agent calls.

`world_build` is deterministic: the same seed and customer count give the same customers, trials,
faults and trace and span ids, whatever the anchor time. Only timestamps move with the anchor,
so the help desk always shows recent activity, while loading the same world twice is detectable.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from demo_platform.workflow import (
    AGENTS,
    FAULT_KINDS,
    STEPS,
    TOTAL_STEPS,
    InteractionRecord,
    LogLine,
    TrialContext,
    context_id_for,
    step_call_build,
    step_get,
)

DEFAULT_SEED = 20260101
DEFAULT_CUSTOMER_COUNT = 240
STORY_CUSTOMER_ID = "cust-123"
STORY_TRIAL_ID = "trial-wf-12345"
# Completed trials older than this keep their state but no spans, which keeps loading fast.
HISTORY_WINDOW = timedelta(hours=24)

FIRST_NAMES = (
    "Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jasmine",
    "Kenji", "Lena", "Mateo", "Nadia", "Omar", "Paula", "Quentin", "Rosa", "Samir", "Tara",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aaron", "Bianca", "Carlos", "Daria",
    "Elif", "Farid", "Greta", "Hugo", "Ingrid", "Jonas", "Kofi", "Leila", "Marco", "Nora",
)  # fmt: skip
LAST_NAMES = (
    "Anderson", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Gonzalez", "Haddad", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Alvarez", "Brown",
    "Clarke", "Novak", "Ortiz", "Park", "Reyes", "Silva", "Torres", "Walsh", "Young", "Kim",
)  # fmt: skip
COMPANIES = (
    "Globex", "Initech", "Umbrella Labs", "Stark Analytics", "Wayne Logistics", "Hooli",
    "Vandelay Imports", "Soylent Foods", "Tyrell Systems", "Cyberdyne", "Aperture Science",
    "Wonka Industries", "Gringotts Finance", "Oceanic Air", "Monarch Health", "Pied Piper",
    "Dunder Mifflin", "Massive Dynamic", "Nakatomi Trading", "Blue Sun", "Virtucon",
    "Ollivander Retail", "Prestige Worldwide", "Sterling Cooper", "Bluth Homes",
)  # fmt: skip
PLANS = ("starter", "standard", "premium", "enterprise")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1")
# Share of other customers whose current trial ends each way, with the fault that caused it.
OUTCOME_WEIGHTS = (
    ("COMPLETED", None, 66),
    ("RUNNING", None, 6),
    ("STUCK", "db_pool_exhausted", 5),
    ("STUCK", "queue_backlog", 7),
    ("FAILED", "rate_limited", 8),
    ("FAILED", "cache_corruption", 8),
)


@dataclass
class CustomerProfile:
    customer_id: str
    name: str
    email: str
    phone: str
    company: str
    metadata: dict = field(default_factory=dict)


@dataclass
class TrialRun:
    """A trial as the platform tracks it; the simulation mutates it under the state lock."""

    trial_id: str
    customer_id: str
    plan: str
    status: str
    current_step: int
    trace_id: int
    root_span_id: int
    started_at: datetime
    last_activity_at: datetime
    step_started_at: datetime
    completed_at: datetime | None = None
    detail: str = ""
    total_steps: int = TOTAL_STEPS
    # Attempts already made at the current step, carried into agent.retry.count.
    attempts_at_step: int = 0
    # Context WowMemory stores at step 1; derived from the trial id unless set.
    context_id: str = ""
    # Whether the world contains the trial's agent calls, which only recent trials keep.
    has_recent_history: bool = True
    # Set while the simulation drives the trial: when its next step runs, and at what pace.
    next_step_due: datetime | None = None
    retrying: bool = False

    @property
    def context(self) -> TrialContext:
        return TrialContext(
            customer_id=self.customer_id,
            trial_id=self.trial_id,
            plan=self.plan,
            trace_id=self.trace_id,
            root_span_id=self.root_span_id,
            context_id=self.context_id or context_id_for(self.trial_id),
        )

    @property
    def step_name(self) -> str:
        return step_get(self.current_step).name

    @property
    def agents(self) -> list[str]:
        """Agents that worked on the trial so far, in workflow order."""
        last = self.total_steps if self.status == "COMPLETED" else self.current_step
        names = []
        for step in STEPS[:last]:
            if step.agent not in names:
                names.append(step.agent)
        return names


@dataclass
class Fault:
    fault_id: str
    kind: str
    agent: str
    customer_id: str | None
    created_at: datetime

    @property
    def description(self) -> str:
        return FAULT_KINDS[self.kind].description


@dataclass
class World:
    anchor: datetime
    customers: dict[str, CustomerProfile]
    trials: dict[str, TrialRun]
    faults: dict[str, Fault]
    # Agent calls that already happened, oldest first.
    interactions: list[InteractionRecord]


class WorldBuilder:
    """Draw every random choice from one seeded generator, in a fixed order."""

    def __init__(self, *, seed: int, anchor: datetime):
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.world = World(anchor=anchor, customers={}, trials={}, faults={}, interactions=[])
        self.used_names: set[str] = set()
        self.next_trial_number = 20001

    def span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def trace_id(self) -> int:
        # Even ids, because a trial's signup call uses the trace id with its lowest bit set.
        return (self.rng.getrandbits(128) | 2) & ~1

    def customer_add(self, profile: CustomerProfile) -> CustomerProfile:
        self.world.customers[profile.customer_id] = profile
        self.used_names.add(profile.name)
        return profile

    def fault_add(self, *, kind: str, customer_id: str | None, created_at: datetime) -> Fault:
        fault_id = f"fault-{len(self.world.faults) + 1}"
        agent = FAULT_KINDS[kind].agent
        fault = Fault(fault_id, kind, agent, customer_id, created_at)
        self.world.faults[fault_id] = fault
        return fault

    def trial_id_next(self) -> str:
        trial_id = f"trial-wf-{self.next_trial_number}"
        self.next_trial_number += 1
        return trial_id

    def trial_add(
        self, *, customer_id: str, trial_id: str, plan: str, started_at: datetime
    ) -> TrialRun:
        trial = TrialRun(
            trial_id=trial_id,
            customer_id=customer_id,
            plan=plan,
            status="RUNNING",
            current_step=1,
            trace_id=self.trace_id(),
            root_span_id=self.span_id(),
            started_at=started_at,
            last_activity_at=started_at,
            step_started_at=started_at,
        )
        self.world.trials[trial_id] = trial
        return trial

    def steps_run(
        self, *, trial: TrialRun, last_step: int, gap_seconds: tuple[float, float], record: bool
    ) -> datetime:
        """Run steps 1..last_step successfully from trial.started_at; return when the last ended."""
        moment = trial.started_at
        for step in STEPS[:last_step]:
            span_id = trial.root_span_id if step.number == 2 else self.span_id()
            call = step_call_build(
                trial=trial.context, step=step, started_at=moment, span_id=span_id, rng=self.rng
            )
            if record:
                self.world.interactions.append(call)
            moment = call.ended_at + timedelta(seconds=self.rng.uniform(*gap_seconds))
        return moment

    def fault_attempts_run(
        self, *, trial: TrialRun, kind: str, first_at: datetime, backoff: timedelta
    ) -> datetime:
        """Run the failing step's attempts from first_at; return when the last attempt ended."""
        fault = FAULT_KINDS[kind]
        step = step_get(trial.current_step)
        moment = first_at
        ended_at = first_at
        for attempt in range(fault.attempts):
            call = step_call_build(
                trial=trial.context,
                step=step,
                started_at=moment,
                span_id=self.span_id(),
                rng=self.rng,
                fault=fault,
                retry_count=attempt,
            )
            self.world.interactions.append(call)
            ended_at = call.ended_at
            moment = ended_at + backoff
        trial.attempts_at_step = fault.attempts
        return ended_at


def fault_step(kind: str) -> int:
    """Return the first workflow step that the fault breaks."""
    operations = FAULT_KINDS[kind].operations
    return next(step.number for step in STEPS if step.operation in operations)


def trial_detail_for_fault(kind: str, step_number: int) -> str:
    fault = FAULT_KINDS[kind]
    step = step_get(step_number)
    if fault.trial_outcome == "STUCK":
        return (
            f"Step {step_number} ({step.name}) is waiting: {step.operation} in {step.agent} "
            f"failed {fault.attempts} times. Last error: {fault.error_message}"
        )
    return f"Step {step_number} ({step.name}) failed: {step.operation} in {step.agent}: " + (
        fault.error_message
    )


def story_build(builder: WorldBuilder) -> None:
    """Add cust-123, whose trial is stuck at step 7 by WowMemory's exhausted pool."""
    anchor = builder.anchor
    builder.customer_add(
        CustomerProfile(
            customer_id=STORY_CUSTOMER_ID,
            name="John Doe",
            email="john@example.com",
            phone="+1234567890",
            company="Acme Corp",
            metadata={"plan": "premium", "region": "us-east-1", "signup_source": "web"},
        )
    )

    story_prelude_build(builder)
    earlier = builder.trial_add(
        customer_id=STORY_CUSTOMER_ID,
        trial_id="trial-wf-11873",
        plan="standard",
        started_at=anchor - timedelta(days=9, hours=3),
    )
    earlier.has_recent_history = False
    completed_at = builder.steps_run(trial=earlier, last_step=15, gap_seconds=(5, 40), record=False)
    trial_complete(earlier, at=completed_at)

    trial = builder.trial_add(
        customer_id=STORY_CUSTOMER_ID,
        trial_id=STORY_TRIAL_ID,
        plan="premium",
        started_at=anchor - timedelta(minutes=12),
    )
    trial.context_id = "ctx-456"
    builder.steps_run(trial=trial, last_step=6, gap_seconds=(8, 25), record=True)
    trial.current_step = 7
    fault = builder.fault_add(
        kind="db_pool_exhausted",
        customer_id=STORY_CUSTOMER_ID,
        created_at=anchor - timedelta(minutes=8),
    )
    step_entered = anchor - timedelta(minutes=7)
    ended_at = builder.fault_attempts_run(
        trial=trial, kind=fault.kind, first_at=step_entered, backoff=timedelta(seconds=90)
    )
    trial_block(trial, kind=fault.kind, entered_at=step_entered, last_at=ended_at)


def story_prelude_build(builder: WorldBuilder) -> None:
    """Add cust-123's conversation-memory calls of the last hour, which worked until the fault."""
    moments_and_operations = (
        (timedelta(minutes=58), "store_context", "Customer asked about premium plan limits"),
        (timedelta(minutes=57), "retrieve_context", None),
        (timedelta(minutes=41), "store_context", "Customer wants premium plan"),
        (timedelta(minutes=40), "retrieve_context", None),
        (timedelta(minutes=26), "retrieve_context", None),
    )
    trace_id = builder.trace_id()
    context_id = ""
    for number, (age, operation, text) in enumerate(moments_and_operations, start=451):
        if operation == "store_context":
            context_id = f"ctx-{number}"
            request = {"customer_id": STORY_CUSTOMER_ID, "text": text}
            response = {"status": "stored", "context_id": context_id}
            logs = (LogLine(0, "INFO", "Connected to Redis"), LogLine(60, "INFO", "Stored context"))
        else:
            request = {"context_id": context_id}
            response = {"context_id": context_id, "status": "loaded", "items": 3}
            logs = (
                LogLine(0, "INFO", "Connecting to database..."),
                LogLine(70, "INFO", f"Loaded context {context_id}"),
            )
        builder.world.interactions.append(
            InteractionRecord(
                trace_id=trace_id,
                span_id=builder.span_id(),
                parent_span_id=None,
                agent="WowMemory",
                operation=operation,
                customer_id=STORY_CUSTOMER_ID,
                trial_id=None,
                step=None,
                started_at=builder.anchor - age,
                duration_ms=builder.rng.randint(70, 110),
                request_body=request,
                response_body=response,
                logs=logs,
            )
        )


def trial_complete(trial: TrialRun, *, at: datetime) -> None:
    trial.status = "COMPLETED"
    trial.current_step = trial.total_steps
    trial.completed_at = at
    trial.last_activity_at = at
    trial.step_started_at = at
    trial.detail = "Trial activated."


def trial_block(trial: TrialRun, *, kind: str, entered_at: datetime, last_at: datetime) -> None:
    trial.status = FAULT_KINDS[kind].trial_outcome
    trial.step_started_at = entered_at
    trial.last_activity_at = last_at
    trial.detail = trial_detail_for_fault(kind, trial.current_step)


def name_draw(builder: WorldBuilder) -> str:
    while True:
        name = f"{builder.rng.choice(FIRST_NAMES)} {builder.rng.choice(LAST_NAMES)}"
        if name not in builder.used_names and name != "John Doe":
            return name


def slug(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def phone_draw(rng: random.Random) -> str:
    """Draw a US number in one of the formats customers type, so search must normalize it."""
    area = rng.randint(201, 989)
    line = rng.randint(100, 199)
    formats = (f"+1{area}555{line:04d}", f"+1 ({area}) 555-{line:04d}", f"{area}-555-{line:04d}")
    return rng.choice(formats)


def profile_draw(builder: WorldBuilder, *, customer_id: str, name: str, company: str):
    first, last = name.lower().split(" ", 1)
    rng = builder.rng
    return CustomerProfile(
        customer_id=customer_id,
        name=name,
        email=f"{first}.{slug(last)}@{slug(company)}.example.com",
        phone=phone_draw(rng),
        company=company,
        metadata={
            "plan": rng.choice(PLANS),
            "region": rng.choice(REGIONS),
            "signup_source": rng.choice(("web", "sales", "partner")),
        },
    )


def same_name_pair_build(builder: WorldBuilder) -> None:
    """Add two customers called Maria Garcia at different companies, as search must tell apart."""
    for customer_id, company in (("cust-2001", "Globex"), ("cust-2002", "Initech")):
        profile = profile_draw(
            builder, customer_id=customer_id, name="Maria Garcia", company=company
        )
        builder.customer_add(profile)
        completed_trial_build(
            builder, profile=profile, age=timedelta(days=builder.rng.randint(2, 30))
        )


def completed_trial_build(builder: WorldBuilder, *, profile: CustomerProfile, age: timedelta):
    trial = builder.trial_add(
        customer_id=profile.customer_id,
        trial_id=builder.trial_id_next(),
        plan=profile.metadata["plan"],
        started_at=builder.anchor - age,
    )
    record = age < HISTORY_WINDOW
    trial.has_recent_history = record
    completed_at = builder.steps_run(trial=trial, last_step=15, gap_seconds=(2, 30), record=record)
    trial_complete(trial, at=min(completed_at, builder.anchor - timedelta(seconds=30)))


def running_trial_build(builder: WorldBuilder, *, profile: CustomerProfile) -> None:
    rng = builder.rng
    trial = builder.trial_add(
        customer_id=profile.customer_id,
        trial_id=builder.trial_id_next(),
        plan=profile.metadata["plan"],
        started_at=builder.anchor - timedelta(seconds=rng.randint(60, 400)),
    )
    done = rng.randint(2, 12)
    ended_at = builder.steps_run(trial=trial, last_step=done, gap_seconds=(1, 20), record=True)
    trial.current_step = done + 1
    trial.last_activity_at = min(ended_at, builder.anchor)
    trial.step_started_at = trial.last_activity_at
    trial.detail = f"Running step {trial.current_step}."


def blocked_trial_build(builder: WorldBuilder, *, profile: CustomerProfile, kind: str) -> None:
    rng = builder.rng
    started_at = builder.anchor - timedelta(minutes=rng.randint(20, 20 * 60))
    trial = builder.trial_add(
        customer_id=profile.customer_id,
        trial_id=builder.trial_id_next(),
        plan=profile.metadata["plan"],
        started_at=started_at,
    )
    stop_step = fault_step(kind)
    moment = builder.steps_run(
        trial=trial, last_step=stop_step - 1, gap_seconds=(2, 30), record=True
    )
    trial.current_step = stop_step
    builder.fault_add(
        kind=kind, customer_id=profile.customer_id, created_at=moment - timedelta(minutes=2)
    )
    ended_at = builder.fault_attempts_run(
        trial=trial, kind=kind, first_at=moment, backoff=timedelta(seconds=60)
    )
    trial_block(trial, kind=kind, entered_at=moment, last_at=ended_at)


def outcome_draw(rng: random.Random) -> tuple[str, str | None]:
    choices = [(status, kind) for status, kind, _weight in OUTCOME_WEIGHTS]
    weights = [weight for _status, _kind, weight in OUTCOME_WEIGHTS]
    return rng.choices(choices, weights=weights)[0]


def other_customer_build(
    builder: WorldBuilder,
    *,
    customer_id: str,
    name: str | None = None,
    outcome: tuple[str, str | None] | None = None,
) -> None:
    rng = builder.rng
    profile = profile_draw(
        builder,
        customer_id=customer_id,
        name=name or name_draw(builder),
        company=rng.choice(COMPANIES),
    )
    builder.customer_add(profile)
    if rng.random() < 0.3:
        completed_trial_build(builder, profile=profile, age=timedelta(days=rng.randint(5, 60)))

    status, kind = outcome or outcome_draw(rng)
    if status == "COMPLETED":
        age = timedelta(minutes=rng.randint(30, 60 * 24 * 20))
        completed_trial_build(builder, profile=profile, age=age)
    elif status == "RUNNING":
        running_trial_build(builder, profile=profile)
    else:
        blocked_trial_build(builder, profile=profile, kind=kind)


def world_build(
    *,
    anchor: datetime | None = None,
    seed: int = DEFAULT_SEED,
    customer_count: int = DEFAULT_CUSTOMER_COUNT,
) -> World:
    """Build the demo world with `customer_count` customers (at least the four fixed ones)."""
    anchor = (anchor or datetime.now(UTC)).replace(microsecond=0)
    builder = WorldBuilder(seed=seed, anchor=anchor)

    story_build(builder)
    # cust-456 is the customer whose trial stalls behind the orchestration.tasks backlog.
    other_customer_build(
        builder, customer_id="cust-456", name="Priya Patel", outcome=("STUCK", "queue_backlog")
    )
    same_name_pair_build(builder)

    for number in range(max(0, customer_count - len(builder.world.customers))):
        other_customer_build(builder, customer_id=f"cust-{3001 + number}")

    builder.world.interactions.sort(key=lambda call: call.started_at)
    return builder.world


def agent_statuses_for(world_faults: dict[str, Fault], customer_id: str) -> dict[str, str]:
    """Return each agent's status for one customer's instance given the active faults."""
    statuses = dict.fromkeys(AGENTS, "RUNNING")
    for fault in world_faults.values():
        if fault.customer_id in (None, customer_id) and fault.agent in statuses:
            statuses[fault.agent] = FAULT_KINDS[fault.kind].agent_status
    return statuses
