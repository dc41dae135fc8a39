"""The fault catalog: every root cause the Issue Detective can name, with how to recognize it.

Codes are stable: they are stored on diagnoses, matched by playbooks (Playbook.fault_kinds) and
returned by the API. docs/fault-catalog.md describes each kind for operators.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings

from diagnostics.findings import Signal

RESTART_AGENT = "restart_agent"
RETRY_WORKFLOW = "retry_workflow"


def pattern(expression: str) -> re.Pattern:
    return re.compile(expression, re.IGNORECASE)


@dataclass(frozen=True)
class TextRule:
    """An error-text pattern that argues for a kind, with its weight in [0, 1]."""

    pattern: re.Pattern
    weight: float


@dataclass(frozen=True)
class Penalty:
    """Evidence against a kind, subtracted from its score when it holds for the component.

    It holds when `signal` is present, when an error text matches `pattern`, when none of
    `absent_signals` is present, or when other customers share the error (`peers_share_error`).
    """

    amount: float
    text: str
    signal: Signal | None = None
    pattern: re.Pattern | None = None
    absent_signals: tuple[Signal, ...] = ()
    peers_share_error: bool = False


@dataclass(frozen=True)
class StepTemplate:
    """A resolution step. `action` may use {agent}, {workflow_id}, {step} and {version}.

    A step with `check_signals` is a check the detective already made from the evidence: it is
    returned completed, with the first matching evidence line as its result.
    """

    action: str
    quick_action: str | None = None
    check_signals: tuple[Signal, ...] = ()


@dataclass(frozen=True)
class FaultKind:
    code: str
    title: str
    # Root cause summary; {agent} is the affected component.
    summary: str
    # The change that caused the trouble, apart from its symptoms; may use {agent} and {version}.
    cause: str = ""
    text_rules: tuple[TextRule, ...] = ()
    signal_weights: dict[Signal, float] = field(default_factory=dict)
    # METRIC_SATURATION findings on these metric names count with metric_weight, and
    # METRIC_SHIFT findings (a rise against the baseline) with metric_shift_weight.
    metric_names: tuple[str, ...] = ()
    metric_weight: float = 0.7
    metric_shift_weight: float = 0.3
    # Without a text match, a metric or one of these signals, the kind is rejected outright.
    key_signals: tuple[Signal, ...] = ()
    # False when error text alone cannot establish the kind, only strengthen it.
    text_is_key: bool = True
    missing: str = ""
    penalties: tuple[Penalty, ...] = ()
    steps: tuple[StepTemplate, ...] = ()
    playbook: str = ""
    # Component to blame when no agent-specific evidence names one.
    default_component: str = ""
    evidence_for: tuple[str, ...] = ()
    evidence_against: tuple[str, ...] = ()


# Placeholder for the agent that dispatches workflow steps, resolved by orchestrator_agent().
ORCHESTRATOR = "<orchestrator>"

CHECK_ERRORS = (
    Signal.ALERT,
    Signal.TEMPLATE_NEW,
    Signal.TEMPLATE_BURST,
    Signal.ERROR_LOG,
    Signal.ERROR_MESSAGE,
)
RESTART_STEP = StepTemplate(action="Restart {agent} agent", quick_action=RESTART_AGENT)
RETRY_STEP = StepTemplate(action="Retry workflow from Step {step}", quick_action=RETRY_WORKFLOW)

DATABASE_TIMEOUT = pattern(
    r"(database|\bdb\b|sql|postgres|mysql|connection pool|\bpool\b).{0,60}"
    r"(time[ds]?\s?out|exhaust|unavailable)"
    r"|too many connections|remaining connection slots|pool (is )?(exhausted|full)"
    r"|queuepool limit|could not (obtain|acquire) (a )?connection"
)
CONNECTION_TIMEOUT = pattern(r"connection\s+(time[ds]?\s?out|timed out)")
RESOURCE_EXHAUSTED = pattern(
    r"out of memory|\boom|memoryerror|no space left|disk full"
    r"|resource ?exhausted|cpu (limit|throttl)|too many open files"
    r"|(cpu|memory|disk|filesystem)\b.{0,20}\b(near|at|over|above) (its )?limit"
    r"|(filesystem|disk|volume).{0,20}(almost )?full"
)
CONFIGURATION_TEXT = pattern(
    r"config|setting|environment variable|env var|missing required|invalid value|not configured"
)
MISSING_ENVIRONMENT_VARIABLE = pattern(r"(?-i:^\s*'?[A-Z][A-Z0-9]*(_[A-Z0-9]+)+'?\s*$)")
ANY_TIMEOUT = pattern(r"time[ds]?\s?out|timed out|deadline exceeded")


def orchestrator_agent() -> str:
    # NOTE: the platform does not tell which agent dispatches workflow steps; the demo platform's
    # is WowOrchestrator.
    return getattr(settings, "HELPDESK_ORCHESTRATOR_AGENT", "WowOrchestrator")


def catalog_build() -> dict[str, FaultKind]:
    kinds = (
        FaultKind(
            code="db_pool_exhaustion",
            title="Database connection pool exhausted",
            summary="Database connection timeout in {agent}",
            cause=(
                "{agent}'s database connection pool is exhausted, so calls wait for a "
                "connection until they time out"
            ),
            text_rules=(TextRule(DATABASE_TIMEOUT, 0.6), TextRule(CONNECTION_TIMEOUT, 0.35)),
            signal_weights={
                Signal.TIMEOUTS: 0.5,
                Signal.WORKFLOW_STUCK: 0.5,
                Signal.LATENCY_SHIFT: 0.2,
            },
            metric_names=("db.connections",),
            missing="No error text or metric points at the database connection pool",
            penalties=(
                Penalty(
                    amount=0.25,
                    text="{agent} is down, which an agent crash explains better",
                    signal=Signal.AGENT_DOWN,
                ),
            ),
            steps=(
                StepTemplate(
                    action="Check database health",
                    check_signals=(
                        Signal.METRIC_SATURATION,
                        Signal.METRIC_SHIFT,
                        Signal.TIMEOUTS,
                        *CHECK_ERRORS,
                    ),
                ),
                RESTART_STEP,
                RETRY_STEP,
            ),
            playbook="playbook-trial-stuck-init",
            evidence_for=(
                "Error text names the database, a connection or the pool together with a "
                "timeout ('Database connection timeout after 30s', 'too many connections')",
                "Timeouts on the same agent's calls in the recent window",
                "A workflow stuck at a step whose calls fail on that agent",
                "Database connections at 80% or more of the pool (metrics feed)",
                "Database connections well above their level of the previous 24 hours",
                "Successful calls of the agent much slower than before",
            ),
            evidence_against=("The agent is DOWN: a crash explains failing calls better",),
        ),
        FaultKind(
            code="queue_backlog",
            title="Work queue backed up",
            summary="Workflow steps wait in a backed-up queue of {agent}",
            cause="Work piles up in {agent}'s queue faster than it is consumed",
            text_rules=(TextRule(pattern(r"queue|backlog|enqueue|consumer lag|broker"), 0.45),),
            signal_weights={
                Signal.STEP_WITHOUT_CALLS: 0.5,
                Signal.WORKFLOW_STUCK: 0.3,
                Signal.AGENT_DEGRADED: 0.2,
            },
            metric_names=("queue.pending",),
            key_signals=(Signal.STEP_WITHOUT_CALLS,),
            missing="Every stalled step has agent calls, and no queue error or metric was seen",
            steps=(
                StepTemplate(
                    action="Check the queue depth",
                    check_signals=(
                        Signal.METRIC_SATURATION,
                        Signal.METRIC_SHIFT,
                        Signal.STEP_WITHOUT_CALLS,
                        *CHECK_ERRORS,
                    ),
                ),
                RESTART_STEP,
                RETRY_STEP,
            ),
            playbook="playbook-queue-backlog",
            default_component=ORCHESTRATOR,
            evidence_for=(
                "A stalled step with no agent call recorded since it started",
                "Error text about queues, backlogs or the broker",
                "Pending messages over the queue's limit (metrics feed)",
            ),
            evidence_against=("Calls at the stalled step do run, and fail: look at their errors",),
        ),
        FaultKind(
            code="agent_crash",
            title="Agent crashed or unreachable",
            summary="{agent} is down or crashing",
            cause="{agent} stopped serving requests",
            text_rules=(
                TextRule(
                    pattern(
                        r"connection refused|econnrefused|crash|segfault|exited with|exit code"
                        r"|panic|no healthy upstream|\b503\b|service unavailable|killed"
                    ),
                    0.45,
                ),
            ),
            signal_weights={
                Signal.AGENT_DOWN: 0.7,
                Signal.AGENT_RESTARTING: 0.4,
                Signal.WORKFLOW_STUCK: 0.3,
                Signal.WORKFLOW_FAILED: 0.3,
                Signal.ERROR_RATE: 0.2,
            },
            key_signals=(Signal.AGENT_DOWN, Signal.AGENT_RESTARTING),
            missing="No agent is down or restarting and no error text reports a crash",
            penalties=(
                Penalty(
                    amount=0.25,
                    text="Error text reports memory or disk exhaustion, which resource "
                    "exhaustion explains more specifically",
                    pattern=RESOURCE_EXHAUSTED,
                ),
                Penalty(
                    amount=0.2,
                    text="{agent} reports RUNNING",
                    absent_signals=(Signal.AGENT_DOWN, Signal.AGENT_RESTARTING),
                ),
            ),
            steps=(
                StepTemplate(
                    action="Check {agent} status",
                    check_signals=(Signal.AGENT_DOWN, Signal.AGENT_RESTARTING, *CHECK_ERRORS),
                ),
                RESTART_STEP,
                RETRY_STEP,
            ),
            playbook="playbook-agent-crash",
            evidence_for=(
                "The agent is DOWN or RESTARTING for the customer or platform-wide",
                "Error text such as 'connection refused', '503', 'exited with code'",
            ),
            evidence_against=("The agent reports RUNNING",),
        ),
        FaultKind(
            code="dependency_timeout",
            title="Dependency timing out",
            summary="A dependency of {agent} times out",
            cause="A service that {agent} depends on stopped answering in time",
            text_rules=(
                TextRule(
                    pattern(
                        r"upstream|downstream|gateway|\b504\b|deadline exceeded|read timed out"
                        r"|request timed out|https?\b.{0,40}time[ds]?\s?out"
                        r"|timed out (calling|waiting)"
                    ),
                    0.5,
                ),
                TextRule(ANY_TIMEOUT, 0.25),
            ),
            signal_weights={
                Signal.TIMEOUTS: 0.5,
                Signal.WORKFLOW_STUCK: 0.3,
                Signal.LATENCY_SHIFT: 0.35,
            },
            key_signals=(Signal.TIMEOUTS, Signal.LATENCY_SHIFT),
            missing="No call timed out or slowed down",
            penalties=(
                Penalty(
                    amount=0.3,
                    text="Error text names the database, which database pool exhaustion "
                    "explains more specifically",
                    pattern=DATABASE_TIMEOUT,
                ),
                Penalty(amount=0.2, text="{agent} is down", signal=Signal.AGENT_DOWN),
            ),
            steps=(
                StepTemplate(
                    action="Check which dependency {agent} waits on",
                    check_signals=(Signal.TIMEOUTS, *CHECK_ERRORS),
                ),
                RETRY_STEP,
            ),
            playbook="playbook-dependency-timeout",
            evidence_for=(
                "Timeouts on an agent's calls",
                "Error text naming an upstream, a gateway, HTTP or a deadline",
                "Successful calls much slower in the last hour than before",
            ),
            evidence_against=("Error text names the database: see db_pool_exhaustion",),
        ),
        FaultKind(
            code="upstream_rate_limit",
            title="Upstream rate limit reached",
            summary="{agent} is rate limited by an upstream service",
            cause="{agent} exceeded an upstream service's rate limit",
            text_rules=(
                TextRule(pattern(r"\b429\b|rate.?limit|too many requests|quota|throttl"), 0.65),
            ),
            signal_weights={
                Signal.RETRIES: 0.3,
                Signal.ERROR_RATE: 0.2,
                Signal.WORKFLOW_STUCK: 0.2,
            },
            missing="No error text mentions a rate limit, a quota or HTTP 429",
            steps=(
                StepTemplate(action="Check the upstream quota", check_signals=CHECK_ERRORS),
                StepTemplate(action="Wait for the limit window to reset, or raise the quota"),
                RETRY_STEP,
            ),
            playbook="playbook-upstream-rate-limit",
            evidence_for=(
                "Error text: '429', 'rate limit', 'too many requests', 'quota'",
                "Calls retried several times",
            ),
        ),
        FaultKind(
            code="bad_deploy",
            title="Faulty deploy",
            summary="{agent} fails since its version changed",
            cause="{agent} was deployed as {version} shortly before its errors began",
            text_rules=(
                TextRule(
                    pattern(
                        r"attributeerror|typeerror|importerror|modulenotfounderror|nameerror"
                        r"|nonetype|unexpected keyword|schema mismatch|not implemented"
                    ),
                    0.35,
                ),
            ),
            signal_weights={
                Signal.VERSION_CHANGE: 0.6,
                Signal.ERROR_RATE: 0.3,
                Signal.TEMPLATE_NEW: 0.3,
                Signal.TIMEOUTS: 0.2,
                Signal.WORKFLOW_STUCK: 0.2,
                Signal.LATENCY_SHIFT: 0.15,
                Signal.AGENT_RESTARTING: 0.1,
            },
            key_signals=(Signal.VERSION_CHANGE,),
            text_is_key=False,
            missing="No agent version changed shortly before the errors",
            penalties=(
                Penalty(
                    amount=0.1,
                    text="Error text names a setting, which a configuration error explains "
                    "more specifically",
                    pattern=pattern(
                        f"{CONFIGURATION_TEXT.pattern}|{MISSING_ENVIRONMENT_VARIABLE.pattern}"
                    ),
                ),
            ),
            steps=(
                StepTemplate(
                    action="Compare errors before and after {agent} {version}",
                    check_signals=(Signal.VERSION_CHANGE,),
                ),
                StepTemplate(action="Roll {agent} back to the previous version"),
                RETRY_STEP,
            ),
            playbook="playbook-bad-deploy",
            evidence_for=(
                "The agent's version changed up to 2 hours before its first error",
                "Programming errors (TypeError, AttributeError, ImportError) in error text",
                "Error log templates never seen before the deploy",
            ),
            evidence_against=("No version change before the errors",),
        ),
        FaultKind(
            code="config_error",
            title="Configuration error",
            summary="{agent} is misconfigured",
            cause="A setting of {agent} is missing or invalid",
            text_rules=(
                TextRule(
                    CONFIGURATION_TEXT,
                    0.6,
                ),
                # A bare upper-case name with underscores is what os.environ["NAME"] raises as
                # a KeyError when the environment variable is not set.
                TextRule(MISSING_ENVIRONMENT_VARIABLE, 0.5),
            ),
            signal_weights={Signal.VERSION_CHANGE: 0.2, Signal.ERROR_RATE: 0.3},
            missing="No error text mentions configuration or settings",
            steps=(
                StepTemplate(
                    action="Find the setting named in {agent}'s errors", check_signals=CHECK_ERRORS
                ),
                StepTemplate(
                    action="Correct the setting, then restart {agent} agent",
                    quick_action=RESTART_AGENT,
                ),
                RETRY_STEP,
            ),
            playbook="playbook-config-error",
            evidence_for=(
                "Error text: 'configuration', 'setting', 'environment variable', "
                "'missing required'",
                "A version change shortly before (config often ships with a deploy)",
            ),
        ),
        FaultKind(
            code="invalid_customer_input",
            title="Invalid customer input",
            summary="{agent} rejects this customer's input",
            cause="The customer's input fails {agent}'s validation",
            text_rules=(
                TextRule(
                    pattern(
                        r"validation|invalid (input|request|payload|argument|format|json)"
                        r"|malformed|schema|unprocessable|\b422\b|\b400\b|bad request"
                        r"|cannot parse|could not parse|jsondecodeerror|expecting .{1,20} delimiter"
                        r"|can't decode byte|does not match format|unsupported file type"
                    ),
                    0.55,
                ),
            ),
            signal_weights={Signal.ERROR_RATE: 0.2, Signal.WORKFLOW_FAILED: 0.2},
            missing="No error text reports invalid or malformed input",
            penalties=(
                Penalty(
                    amount=0.35,
                    text="Other customers get the same error from {agent}, so one customer's "
                    "input is not the cause",
                    peers_share_error=True,
                ),
            ),
            steps=(
                StepTemplate(
                    action="Review the failing request bodies in the timeline",
                    check_signals=CHECK_ERRORS,
                ),
                StepTemplate(action="Ask the customer to correct the input"),
                RETRY_STEP,
            ),
            playbook="playbook-invalid-customer-input",
            evidence_for=("Error text: 'validation', 'invalid input', 'malformed', '400', '422'",),
            evidence_against=("Other customers get the same error from the same agent",),
        ),
        FaultKind(
            code="cache_inconsistency",
            title="Cache inconsistent with its source",
            summary="{agent} serves stale or inconsistent cached data",
            cause="{agent}'s cache holds data that no longer matches its source",
            text_rules=(
                TextRule(
                    pattern(
                        r"cache|stale|inconsistent|checksum|version mismatch|out of sync"
                        r"|etag mismatch|precondition failed|evicted"
                    ),
                    0.55,
                ),
            ),
            signal_weights={Signal.ERROR_RATE: 0.2, Signal.WORKFLOW_STUCK: 0.2},
            missing="No error text mentions the cache, stale data or a mismatch",
            steps=(
                StepTemplate(
                    action="Compare the cached value with its source", check_signals=CHECK_ERRORS
                ),
                # TODO: tie to the clear_cache quick action once the actions app offers it.
                StepTemplate(action="Clear the customer's cache in {agent}"),
                RETRY_STEP,
            ),
            playbook="playbook-cache-inconsistency",
            evidence_for=("Error text: 'cache', 'stale', 'checksum', 'version mismatch'",),
        ),
        FaultKind(
            code="resource_exhaustion",
            title="Agent out of memory, CPU or disk",
            summary="{agent} has run out of resources",
            cause="{agent} ran out of memory, CPU or disk",
            text_rules=(
                TextRule(
                    RESOURCE_EXHAUSTED,
                    0.6,
                ),
            ),
            signal_weights={
                Signal.AGENT_DEGRADED: 0.3,
                Signal.AGENT_RESTARTING: 0.3,
                Signal.TIMEOUTS: 0.15,
                Signal.LATENCY_SHIFT: 0.15,
            },
            metric_names=("memory.usage", "cpu.usage", "disk.usage"),
            metric_weight=0.6,
            missing="No error text or metric reports memory, CPU or disk exhaustion",
            steps=(
                StepTemplate(
                    action="Check {agent} memory, CPU and disk",
                    check_signals=(Signal.METRIC_SATURATION, Signal.METRIC_SHIFT, *CHECK_ERRORS),
                ),
                RESTART_STEP,
                RETRY_STEP,
                StepTemplate(action="Escalate to raise {agent}'s resource limits"),
            ),
            playbook="playbook-resource-exhaustion",
            evidence_for=(
                "Error text: 'out of memory', 'OOMKilled', 'no space left on device'",
                "The agent DEGRADED or restarting",
                "Memory, CPU or disk at 90% or more (metrics feed)",
            ),
        ),
        FaultKind(
            code="missing_resource",
            title="Required resource missing",
            summary="{agent} cannot find a resource it needs",
            cause="A resource that {agent} needs does not exist",
            text_rules=(
                TextRule(
                    pattern(
                        r"not found|\b404\b|does not exist|no such|missing (resource|file|bucket"
                        r"|index|table|collection|context)|not provisioned"
                    ),
                    0.55,
                ),
            ),
            signal_weights={
                Signal.WORKFLOW_FAILED: 0.25,
                Signal.STEP_FAILURES: 0.2,
                Signal.ERROR_RATE: 0.2,
            },
            missing="No error text reports a missing resource",
            steps=(
                StepTemplate(action="Find which resource is missing", check_signals=CHECK_ERRORS),
                # TODO: tie to the provision_resources quick action once the actions app has it.
                StepTemplate(action="Provision the missing resource for the customer"),
                RETRY_STEP,
            ),
            playbook="playbook-missing-resource",
            evidence_for=("Error text: 'not found', '404', 'does not exist', 'no such'",),
        ),
        FaultKind(
            code="credential_failure",
            title="Credential rejected",
            summary="{agent} presents a rejected or expired credential",
            cause="{agent}'s credential is rejected or expired",
            text_rules=(
                TextRule(
                    pattern(
                        r"\b401\b|\b403\b|unauthori[sz]ed|forbidden|invalid (api )?(key|token"
                        r"|credentials)|expired (token|credential)|token (has )?expired"
                        r"|authentication (failed|error)|permission ?denied|access denied"
                        r"|security token .{0,60}expired|signaturedoesnotmatch|invalid_grant"
                        r"|unauthenticated|invalid authentication|incorrect api key"
                    ),
                    0.65,
                ),
            ),
            signal_weights={Signal.ERROR_RATE: 0.25, Signal.WORKFLOW_STUCK: 0.15},
            missing="No error text reports an authentication or permission failure",
            steps=(
                StepTemplate(
                    action="Find which credential {agent} presents", check_signals=CHECK_ERRORS
                ),
                StepTemplate(action="Renew or rotate the credential"),
                StepTemplate(
                    action="Restart {agent} agent to load the new credential",
                    quick_action=RESTART_AGENT,
                ),
                RETRY_STEP,
            ),
            playbook="playbook-credential-failure",
            evidence_for=("Error text: '401', '403', 'unauthorized', 'token expired'",),
        ),
    )
    return {kind.code: kind for kind in kinds}


CATALOG: dict[str, FaultKind] = catalog_build()

NONE_KIND = "none"
UNKNOWN_KIND = "unknown"
