"""Labelled incident scenarios: one customer's telemetry while a known fault is under way.

Each scenario is a small platform: a roster of agents (the demo's Wow* five and others), one
customer whose trial runs through them, a few other customers, a day of healthy traffic, and a
fault of one catalog kind on one agent, the label. Noise comes on top: sporadic unrelated errors,
sometimes a second, smaller fault on another agent, and varied timings, exporters and wording.
A scenario is plain data; evaluation.replay turns it into OTLP requests and state events.
"""

import datetime as dt
import json
import random
from dataclasses import dataclass, field

from evaluation.signals import (
    BACKGROUND_FAILURES,
    BACKGROUND_LOGS,
    FAULT_EFFECTS,
    FAULT_ROLES,
    ROLES,
    Failure,
    FaultEffects,
)

KINDS = tuple(FAULT_EFFECTS)

AGENT_POOL = (
    ("WowMemory", "memory"),
    ("WowOrchestrator", "orchestrator"),
    ("WowCache", "cache"),
    ("WowDomain", "domain"),
    ("WowAPI", "gateway"),
    ("ContextKeeper", "memory"),
    ("FlowConductor", "orchestrator"),
    ("StepRouter", "orchestrator"),
    ("RecallStore", "cache"),
    ("PlannerLLM", "llm"),
    ("SummaryWriter", "llm"),
    ("ToolRunner", "gateway"),
    ("CRMConnector", "connector"),
    ("BillingSync", "connector"),
    ("DocSearch", "retrieval"),
    ("VectorRecall", "retrieval"),
    ("DocParser", "ingestion"),
    ("IntakeWorker", "ingestion"),
    ("TopicClassifier", "domain"),
)
ROLE_OF = dict(AGENT_POOL)

FIRST_NAMES = ("Ada", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ines", "Jon")
LAST_NAMES = ("Okafor", "Silva", "Nakamura", "Kowalski", "Haddad", "Larsen", "Moreau", "Patel")
COMPANIES = ("Northwind", "Globex", "Initech", "Umbrella Labs", "Stark Logistics", "Acme Corp")
STEP_NAMES = (
    "load_profile",
    "retrieve_context",
    "plan_task",
    "classify_request",
    "fetch_documents",
    "summarize",
    "draft_reply",
    "check_policy",
    "call_tool",
    "store_memory",
    "rank_results",
    "sync_crm",
    "extract_fields",
    "validate_output",
    "notify_customer",
)


@dataclass
class SpanSpec:
    trace_id: str
    span_id: str
    agent: str
    operation: str
    started_at: dt.datetime
    duration_ms: int
    customer_id: str | None
    workflow_id: str | None = None
    step: int | None = None
    failure: Failure | None = None
    retries: int = 0
    request_body: str = ""


@dataclass
class LogSpec:
    agent: str
    timestamp: dt.datetime
    severity: str
    body: str
    customer_id: str | None = None
    trace_id: str = ""
    span_id: str = ""


@dataclass
class MetricSpec:
    """A gauge reading with its limit, such as connections in use out of the pool size."""

    name: str
    agent: str
    value: float
    limit: float
    unit: str
    timestamp: dt.datetime


@dataclass
class AlertSpec:
    name: str
    agent: str
    severity: str
    summary: str
    starts_at: dt.datetime


@dataclass
class Scenario:
    scenario_id: str
    seed: int
    kind: str
    component: str
    customer_id: str
    orchestrator: str
    # Exporter style: the agent's name in gen_ai.agent.name, or only in resource service.name.
    agent_attribute: bool = True
    # The smaller fault running at the same time, as (kind, component), if any.
    secondary: tuple[str, str] | None = None
    events: list[dict] = field(default_factory=list)
    spans: list[SpanSpec] = field(default_factory=list)
    logs: list[LogSpec] = field(default_factory=list)
    metrics: list[MetricSpec] = field(default_factory=list)
    alerts: list[AlertSpec] = field(default_factory=list)


@dataclass
class Builder:
    """Working state while one scenario is drawn."""

    rng: random.Random
    now: dt.datetime
    scenario: Scenario
    roster: list[str]

    def hex_id(self, digits: int) -> str:
        # The low bit is set so that no id is all zeros, which OTLP forbids.
        return f"{self.rng.getrandbits(digits * 4) | 1:0{digits}x}"


def scenarios_generate(*, seed: int, per_kind: int, now: dt.datetime) -> list[Scenario]:
    """Draw `per_kind` scenarios of every catalog kind, the same ones for the same seed and now."""
    scenarios = []
    for index in range(per_kind * len(KINDS)):
        kind = KINDS[index % len(KINDS)]
        scenario_seed = seed * 1_000_003 + index
        scenarios.append(scenario_generate(seed=scenario_seed, kind=kind, index=index, now=now))
    return scenarios


def scenario_generate(*, seed: int, kind: str, index: int, now: dt.datetime) -> Scenario:
    rng = random.Random(seed)
    component = rng.choice([name for name, role in AGENT_POOL if role in FAULT_ROLES[kind]])
    roster = roster_draw(rng=rng, component=component)
    orchestrator = next(name for name in roster if ROLE_OF[name] == "orchestrator")
    scenario = Scenario(
        scenario_id=f"scn-{index:03d}-{kind}",
        seed=seed,
        kind=kind,
        component=component,
        customer_id=f"cust-{rng.randrange(10**6):06d}",
        orchestrator=orchestrator,
        agent_attribute=rng.random() < 0.7,
    )
    builder = Builder(rng=rng, now=now, scenario=scenario, roster=roster)

    fault_start = now - dt.timedelta(minutes=rng.uniform(4, 180))
    effects = FAULT_EFFECTS[kind](rng, component)
    customers_announce(builder=builder)
    versions_announce(builder=builder)
    healthy_traffic(builder=builder)
    trial_run(builder=builder, effects=effects, fault_start=fault_start)
    fault_apply(builder=builder, agent=component, effects=effects, fault_start=fault_start)
    noise_add(builder=builder)
    if rng.random() < 0.4:
        secondary_fault(builder=builder, fault_start=fault_start)
    return scenario


def roster_draw(*, rng: random.Random, component: str) -> list[str]:
    """Return the scenario's agents: the component, an orchestrator and three to five others."""
    orchestrators = [name for name, role in AGENT_POOL if role == "orchestrator"]
    roster = [component]
    if ROLE_OF[component] != "orchestrator":
        roster.append(rng.choice(orchestrators))
    others = [name for name, role in AGENT_POOL if name not in roster and role != "orchestrator"]
    roster.extend(rng.sample(others, k=rng.randint(3, 5)))
    rng.shuffle(roster)
    return roster


def customers_announce(*, builder: Builder) -> None:
    rng = builder.rng
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    builder.scenario.events.append(
        {
            "type": "customer.upserted",
            "customer": {
                "customer_id": builder.scenario.customer_id,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@example.com",
                "company": rng.choice(COMPANIES),
                "metadata": {"tier": rng.choice(("trial", "premium", "enterprise"))},
            },
        }
    )


def versions_announce(*, builder: Builder) -> None:
    """Report every agent RUNNING with its current version three days before now."""
    moment = builder.now - dt.timedelta(days=3)
    for agent in builder.roster:
        version = (
            f"{builder.rng.randint(0, 3)}.{builder.rng.randint(0, 20)}.{builder.rng.randint(0, 9)}"
        )
        builder.scenario.events.append(
            status_event(agent=agent, status="RUNNING", at=moment, version=version)
        )


def status_event(
    *, agent: str, status: str, at: dt.datetime, version: str = "", customer_id: str = ""
) -> dict:
    event = {"type": "agent.status", "agent": agent, "status": status, "occurred_at": iso(at)}
    if version:
        event["version"] = version
    if customer_id:
        event["customer_id"] = customer_id
    return event


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def healthy_traffic(*, builder: Builder) -> None:
    """Add a day of successful calls by the customer and by two to four other customers."""
    rng = builder.rng
    others = [f"cust-{rng.randrange(10**6):06d}" for _ in range(rng.randint(2, 4))]
    for customer_id, calls in [(builder.scenario.customer_id, rng.randint(40, 160))] + [
        (other, rng.randint(10, 50)) for other in others
    ]:
        for _ in range(calls):
            agent = rng.choice(builder.roster)
            started = builder.now - dt.timedelta(seconds=rng.uniform(60, 86_000))
            span_add(builder=builder, agent=agent, customer_id=customer_id, started_at=started)
    builder.scenario.metrics.extend(healthy_metrics(builder=builder))


def healthy_metrics(*, builder: Builder) -> list[MetricSpec]:
    rng = builder.rng
    readings = []
    for agent in builder.roster:
        if ROLE_OF[agent] in ("memory", "retrieval", "connector", "cache"):
            readings.append(
                MetricSpec(
                    "db.connections",
                    agent,
                    float(rng.randint(2, 40)),
                    100.0,
                    "{connection}",
                    builder.now - dt.timedelta(minutes=2),
                )
            )
        readings.append(
            MetricSpec(
                "memory.usage",
                agent,
                float(rng.randint(300, 1200)),
                2048.0,
                "MiB",
                builder.now - dt.timedelta(minutes=2),
            )
        )
    return readings


def span_add(
    *,
    builder: Builder,
    agent: str,
    customer_id: str | None,
    started_at: dt.datetime,
    operation: str | None = None,
    failure: Failure | None = None,
    workflow_id: str | None = None,
    step: int | None = None,
    retries: int = 0,
) -> SpanSpec:
    rng = builder.rng
    if failure is not None:
        duration_ms = int(failure.duration_s * 1000 * rng.uniform(0.95, 1.1))
    else:
        duration_ms = int(rng.expovariate(1 / 180)) + 5
    span = SpanSpec(
        trace_id=builder.hex_id(32),
        span_id=builder.hex_id(16),
        agent=agent,
        operation=operation or rng.choice(ROLES[ROLE_OF[agent]]),
        started_at=started_at,
        duration_ms=duration_ms,
        customer_id=customer_id,
        workflow_id=workflow_id,
        step=step,
        failure=failure,
        retries=retries,
        request_body=json.dumps({"request_id": builder.hex_id(8), "tokens": rng.randint(20, 900)}),
    )
    builder.scenario.spans.append(span)
    return span


def trial_run(*, builder: Builder, effects: FaultEffects, fault_start: dt.datetime) -> None:
    """Run the customer's trial up to the step the fault stops, reporting progress as it goes.

    The stopped step belongs to the faulty agent unless the fault keeps calls from reaching it
    (a backlog), in which case the step waits for another agent that is never called.
    """
    rng = builder.rng
    scenario = builder.scenario
    total = rng.randint(8, 20)
    stuck_step = rng.randint(3, total - 1)
    step_seconds = rng.uniform(20, 240)
    started = fault_start - dt.timedelta(
        seconds=step_seconds * (stuck_step - 1) + rng.uniform(1, 20)
    )
    trial_id = f"trial-{rng.choice(('wf', 'run', 'onb'))}-{rng.randrange(10**5):05d}"
    step_agents = [rng.choice(builder.roster) for _ in range(total)]
    if effects.calls_reach_component:
        step_agents[stuck_step - 1] = scenario.component
    else:
        waiting = [name for name in builder.roster if name != scenario.component]
        step_agents[stuck_step - 1] = rng.choice(waiting)
    names = rng.sample(STEP_NAMES, k=min(total, len(STEP_NAMES))) * 2

    for step in range(1, stuck_step + 1):
        entered = started + dt.timedelta(seconds=step_seconds * (step - 1))
        scenario.events.append(
            progress_event(
                builder=builder,
                trial_id=trial_id,
                step=step,
                total=total,
                name=names[step - 1],
                status="RUNNING",
                at=entered,
                agents=[scenario.orchestrator, step_agents[step - 1]],
            )
        )
        if step < stuck_step:
            for _ in range(rng.randint(1, 3)):
                span_add(
                    builder=builder,
                    agent=step_agents[step - 1],
                    customer_id=scenario.customer_id,
                    workflow_id=trial_id,
                    step=step,
                    started_at=entered + dt.timedelta(seconds=rng.uniform(0, step_seconds)),
                )

    if effects.calls_reach_component:
        step_calls_fail(
            builder=builder,
            effects=effects,
            trial_id=trial_id,
            step=stuck_step,
            fault_start=fault_start,
        )
    trial_settle(
        builder=builder,
        effects=effects,
        trial_id=trial_id,
        step=stuck_step,
        total=total,
        name=names[stuck_step - 1],
        fault_start=fault_start,
        agents=[scenario.orchestrator, step_agents[stuck_step - 1]],
    )


def progress_event(*, builder, trial_id, step, total, name, status, at, agents, detail="") -> dict:
    return {
        "type": "trial.progress",
        "trial_id": trial_id,
        "customer_id": builder.scenario.customer_id,
        "plan": "trial",
        "current_step": step,
        "total_steps": total,
        "step_name": name,
        "status": status,
        "detail": detail,
        "agents": agents,
        "occurred_at": iso(at),
    }


def step_calls_fail(
    *, builder: Builder, effects: FaultEffects, trial_id: str, step: int, fault_start: dt.datetime
) -> None:
    """Add the faulty agent's attempts at the stopped step: most fail, some are retried."""
    rng = builder.rng
    attempts = rng.randint(1, 4)
    span_seconds = max((builder.now - fault_start).total_seconds(), 60)
    for attempt in range(attempts):
        failure = rng.choice(effects.failures) if effects.failures else None
        if failure is not None and rng.random() > max(effects.failure_share, 0.6):
            failure = None
        span_add(
            builder=builder,
            agent=builder.scenario.component,
            customer_id=builder.scenario.customer_id,
            workflow_id=trial_id,
            step=step,
            started_at=fault_start + dt.timedelta(seconds=span_seconds * attempt / attempts),
            failure=failure,
            retries=effects.retries,
        )


def trial_settle(*, builder, effects, trial_id, step, total, name, fault_start, agents) -> None:
    """Report where the trial ended up: STUCK or FAILED some time after the fault, or no news."""
    rng = builder.rng
    if effects.trial_status == "RUNNING":
        return
    reported = fault_start + dt.timedelta(seconds=rng.uniform(20, 300))
    reported = min(reported, builder.now - dt.timedelta(seconds=5))
    builder.scenario.events.append(
        progress_event(
            builder=builder,
            trial_id=trial_id,
            step=step,
            total=total,
            name=name,
            status=effects.trial_status,
            at=reported,
            agents=agents,
            detail=effects.trial_detail,
        )
    )


def fault_apply(
    *, builder: Builder, agent: str, effects: FaultEffects, fault_start: dt.datetime
) -> None:
    """Add the fault's failing calls, logs, status changes, metrics and alert on `agent`."""
    rng = builder.rng
    scenario = builder.scenario
    calls = rng.randint(6, 30) if effects.failures else 0
    others = sorted(
        {s.customer_id for s in scenario.spans if s.customer_id} - {scenario.customer_id}
    )
    for _ in range(calls):
        customer_id = scenario.customer_id
        if effects.shared and others and rng.random() < 0.5:
            customer_id = rng.choice(others)
        moment = fault_start + (builder.now - fault_start) * rng.random()
        failure = rng.choice(effects.failures) if rng.random() < effects.failure_share else None
        span = span_add(
            builder=builder,
            agent=agent,
            customer_id=customer_id,
            started_at=moment,
            failure=failure,
            retries=effects.retries if failure else 0,
        )
        if failure is not None and rng.random() < 0.3:
            log_add(
                builder=builder,
                agent=agent,
                severity="ERROR",
                body=failure.message or failure.error_type,
                at=moment,
                span=span,
            )

    for severity, body in effects.logs:
        moment = fault_start + (builder.now - fault_start) * rng.random()
        linked = rng.random() < 0.5
        log_add(
            builder=builder,
            agent=agent,
            severity=severity,
            body=body,
            at=moment,
            customer_id=scenario.customer_id if linked else None,
        )

    statuses_apply(builder=builder, agent=agent, effects=effects, fault_start=fault_start)
    for name, value, limit, unit in effects.metrics:
        for minutes in (10, 5, 1):
            moment = max(builder.now - dt.timedelta(minutes=minutes), fault_start)
            scenario.metrics.append(
                MetricSpec(name, agent, value * rng.uniform(0.97, 1.0), limit, unit, moment)
            )
    if effects.alert is not None and rng.random() < 0.5:
        name, severity, summary = effects.alert
        scenario.alerts.append(
            AlertSpec(
                name,
                agent,
                severity,
                summary,
                fault_start + dt.timedelta(minutes=rng.uniform(1, 5)),
            )
        )


def statuses_apply(
    *, builder: Builder, agent: str, effects: FaultEffects, fault_start: dt.datetime
) -> None:
    customer_id = builder.scenario.customer_id if effects.status_for_customer_only else ""
    for status, version, minutes_before in effects.statuses:
        moment = min(fault_start - dt.timedelta(minutes=minutes_before), builder.now)
        builder.scenario.events.append(
            status_event(
                agent=agent,
                status=status,
                at=moment,
                version=version,
                customer_id=customer_id if not version else "",
            )
        )


def log_add(
    *,
    builder: Builder,
    agent: str,
    severity: str,
    body: str,
    at: dt.datetime,
    span: SpanSpec | None = None,
    customer_id: str | None = None,
) -> None:
    builder.scenario.logs.append(
        LogSpec(
            agent=agent,
            timestamp=at,
            severity=severity,
            body=body,
            customer_id=customer_id,
            trace_id=span.trace_id if span else "",
            span_id=span.span_id if span else "",
        )
    )


def noise_add(*, builder: Builder) -> None:
    """Add sporadic unrelated errors and warnings on agents other than the faulty one."""
    rng = builder.rng
    bystanders = [name for name in builder.roster if name != builder.scenario.component]
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        agent = rng.choice(bystanders)
        moment = builder.now - dt.timedelta(seconds=rng.uniform(60, 80_000))
        span_add(
            builder=builder,
            agent=agent,
            customer_id=builder.scenario.customer_id,
            started_at=moment,
            failure=rng.choice(BACKGROUND_FAILURES),
        )
    for _ in range(rng.randint(0, 3)):
        severity, body = rng.choice(BACKGROUND_LOGS)
        log_add(
            builder=builder,
            agent=rng.choice(bystanders),
            severity=severity,
            body=body.format(ms=rng.randint(800, 4000)),
            at=builder.now - dt.timedelta(seconds=rng.uniform(60, 80_000)),
            customer_id=builder.scenario.customer_id,
        )


def secondary_fault(*, builder: Builder, fault_start: dt.datetime) -> None:
    """Add a smaller fault of another kind on another agent: a few failed calls, no state change."""
    rng = builder.rng
    scenario = builder.scenario
    kinds = [kind for kind in KINDS if kind not in (scenario.kind, "queue_backlog")]
    kind = rng.choice(kinds)
    bystanders = [name for name in builder.roster if name != scenario.component]
    agent = rng.choice(bystanders)
    effects = FAULT_EFFECTS[kind](rng, agent)
    if not effects.failures:
        return
    scenario.secondary = (kind, agent)
    start = fault_start + dt.timedelta(minutes=rng.uniform(-30, 30))
    start = min(start, builder.now - dt.timedelta(minutes=2))
    for _ in range(rng.randint(1, 3)):
        moment = start + (builder.now - start) * rng.random()
        span_add(
            builder=builder,
            agent=agent,
            customer_id=scenario.customer_id,
            started_at=moment,
            failure=rng.choice(effects.failures),
        )


def scenario_digest(scenario: Scenario) -> str:
    """Return a stable JSON text of the scenario, to compare two draws."""

    def default(value):
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return value.__dict__

    return json.dumps(scenario.__dict__, default=default, sort_keys=True)
