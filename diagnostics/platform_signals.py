"""Platform signals with no customer's errors behind them: firing alerts and saturated metrics.

The scan diagnoses customer by customer, so a platform-wide alert or a saturated pool that no
customer's calls fail on yet opened no issue. This module finds such signals per agent and
describes the platform-wide issue each should open, with the customers the agent serves.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from customers.models import AgentAssignment
from diagnostics.baseline_detectors import detect_alerts, detect_metric_saturation
from diagnostics.catalog import CATALOG, UNKNOWN_KIND
from diagnostics.evidence import AlertState, EvidenceSnapshot, MetricReading
from diagnostics.findings import Finding
from diagnostics.reasoning import conclusion_reach

logger = logging.getLogger(__name__)

# Only platform readings this recent count, as for a customer's snapshot.
READING_MAX_AGE = timedelta(minutes=30)
ALERT_CRITICAL_SEVERITIES = ("critical", "page")
CATALOG_METRIC_NAMES = {
    "db.client.connection.count": "db.connections",
    "messaging.queue.depth": "queue.pending",
    "process.cpu.utilization": "cpu.usage",
    "process.memory.utilization": "memory.usage",
}


@dataclass
class PlatformObservation:
    """A platform signal on one agent, with the issue it opens."""

    agent: str
    kind: str
    summary: str
    confidence: float
    evidence: list[str]
    first_seen: datetime
    last_seen: datetime
    critical: bool
    customer_ids: list[int] = field(default_factory=list)
    customers_served: int = 0

    @property
    def fingerprint(self) -> str:
        return f"{self.kind}|{self.agent}|platform"[:256]


def platform_observations_find(
    *, now: datetime, skip_agents: set[str]
) -> list[PlatformObservation]:
    """Return one observation per agent with a platform alert or saturated platform metric.

    Agents in `skip_agents` already have an issue from customers' evidence this run.
    """
    snapshot = platform_snapshot(now=now)
    findings = [*detect_metric_saturation(snapshot), *detect_alerts(snapshot)]
    by_agent: dict[str, list[Finding]] = {}
    for finding in findings:
        by_agent.setdefault(finding.agent or "", []).append(finding)

    observations = []
    for agent, agent_findings in sorted(by_agent.items()):
        if agent in skip_agents:
            continue
        observations.append(
            observation_build(snapshot=snapshot, agent=agent, findings=agent_findings)
        )
    return observations


def platform_snapshot(*, now: datetime) -> EvidenceSnapshot:
    """Collect platform-wide readings and alerts, those without a customer, in two queries."""
    from telemetry import selectors as telemetry_selectors

    snapshot = EvidenceSnapshot(
        customer_id="", now=now, since=now - READING_MAX_AGE, recent_since=now - READING_MAX_AGE
    )
    readings = telemetry_selectors.saturation_readings_get(since=now - READING_MAX_AGE)
    snapshot.metrics = [
        MetricReading(
            name=CATALOG_METRIC_NAMES[reading.metric],
            agent=reading.agent,
            value=reading.value,
            limit=reading.limit,
            observed_at=reading.observed_at,
            unit=reading.unit,
        )
        for reading in readings
        if reading.customer_id is None and reading.metric in CATALOG_METRIC_NAMES
    ]
    snapshot.alerts = [
        AlertState(
            name=alert.name,
            agent=alert.agent.name if alert.agent else "",
            severity=alert.severity,
            summary=alert.summary,
            started_at=alert.starts_at,
            platform_wide=True,
        )
        for alert in telemetry_selectors.alerts_firing_list()
        if alert.customer_id is None
    ]
    return snapshot


def observation_build(
    *, snapshot: EvidenceSnapshot, agent: str, findings: list[Finding]
) -> PlatformObservation:
    """Name the signal's fault kind like a diagnosis would, else describe the signal itself."""
    conclusion = conclusion_reach(snapshot=snapshot, findings=findings)
    times = [finding.observed_at for finding in findings if finding.observed_at is not None]
    evidence = [finding.text for finding in findings]
    known = conclusion.kind in CATALOG and conclusion.component == agent
    customer_ids, served = served_customers(agent=agent)
    return PlatformObservation(
        agent=agent,
        kind=conclusion.kind if known else UNKNOWN_KIND,
        summary=f"{CATALOG[conclusion.kind].title} on {agent}" if known else evidence[0],
        confidence=conclusion.confidence if known else 0.0,
        evidence=evidence,
        first_seen=min(times, default=snapshot.now),
        last_seen=max(times, default=snapshot.now),
        critical=signal_critical(snapshot=snapshot, agent=agent, findings=findings),
        customer_ids=customer_ids,
        customers_served=served,
    )


def signal_critical(*, snapshot: EvidenceSnapshot, agent: str, findings: list[Finding]) -> bool:
    """Return whether a saturated metric or a critical alert is among the findings."""
    alerts = [alert for alert in snapshot.alerts if alert.agent == agent]
    if any(alert.severity.lower() in ALERT_CRITICAL_SEVERITIES for alert in alerts):
        return True
    return any(finding.data.get("metric") for finding in findings)


def platform_affected_limit() -> int:
    """Return how many customers a platform issue links; customers_affected counts them all."""
    return getattr(settings, "HELPDESK_PLATFORM_AFFECTED_LIMIT", 50)


def served_customers(*, agent: str) -> tuple[list[int], int]:
    """Return ids of the customers the agent serves, most recently active first, and their count.

    At most platform_affected_limit() ids, in two queries.
    """
    if not agent:
        return [], 0
    assignments = AgentAssignment.objects.filter(agent__name=agent)
    ids = list(
        assignments.order_by("-customer__last_activity_at", "customer_id").values_list(
            "customer_id", flat=True
        )[: platform_affected_limit()]
    )
    return ids, assignments.count()
