"""Detectors of change: metric thresholds and shifts, alerts, log templates and latency.

Each compares the recent window (the last hour) with a threshold or with the baseline window
(the 24 hours before it), and returns findings with one evidence line each.
"""

from collections import defaultdict

from diagnostics.evidence import (
    AlertState,
    EvidenceSnapshot,
    MetricReading,
    OperationStats,
    TemplateStats,
)
from diagnostics.findings import Finding, Signal
from diagnostics.text import message_excerpt

# OpenTelemetry and common exporter names of the gauges the catalog reads, by catalog name.
METRIC_ALIASES = {
    "db.client.connection.count": "db.connections",
    "db.client.connections.usage": "db.connections",
    "db.pool.connections": "db.connections",
    "messaging.queue.pending": "queue.pending",
    "queue.depth": "queue.pending",
    "process.memory.utilization": "memory.usage",
    "system.memory.utilization": "memory.usage",
    "process.cpu.utilization": "cpu.usage",
    "system.cpu.utilization": "cpu.usage",
    "system.filesystem.utilization": "disk.usage",
}
METRIC_LABELS = {
    "db.connections": "Database connections",
    "queue.pending": "Queue pending messages",
    "memory.usage": "Memory use",
    "cpu.usage": "CPU use",
    "disk.usage": "Disk use",
}
# Share of the limit at which a gauge counts as saturated: a pool at 80% starves new requests,
# a queue is backed up once it passes its limit, CPU, memory and disk at 90%.
METRIC_THRESHOLDS = {
    "db.connections": 0.8,
    "queue.pending": 1.0,
    "memory.usage": 0.9,
    "cpu.usage": 0.9,
    "disk.usage": 0.9,
}
DEFAULT_METRIC_THRESHOLD = 0.8
# A metric shifted when its latest value is this many times its baseline mean, and the rise is
# at least this share of the limit (or of the baseline when no limit is known).
METRIC_SHIFT_FACTOR = 1.5
METRIC_SHIFT_MIN_SHARE = 0.2

# A template bursts when its recent hourly rate is this many times its baseline hourly rate.
TEMPLATE_BURST_FACTOR = 5
TEMPLATE_MIN_RECENT = 3
BASELINE_HOURS = 23

# Successful calls shifted when their recent mean is this many times the baseline mean and at
# least LATENCY_MIN_RISE_MS slower, over enough calls on both sides.
LATENCY_SHIFT_FACTOR = 2.0
LATENCY_MIN_RISE_MS = 200
LATENCY_MIN_RECENT_CALLS = 3
LATENCY_MIN_BASELINE_CALLS = 5


def metric_name(reading: MetricReading) -> str:
    return METRIC_ALIASES.get(reading.name, reading.name)


def latest_readings(snapshot: EvidenceSnapshot) -> dict[tuple[str, str], MetricReading]:
    latest: dict[tuple[str, str], MetricReading] = {}
    for reading in sorted(snapshot.metrics, key=lambda reading: reading.observed_at):
        latest[(metric_name(reading), reading.agent)] = reading
    return latest


def detect_metric_saturation(snapshot: EvidenceSnapshot) -> list[Finding]:
    findings = []
    for (name, agent), reading in latest_readings(snapshot).items():
        threshold = METRIC_THRESHOLDS.get(name, DEFAULT_METRIC_THRESHOLD)
        if not reading.limit or reading.ratio < threshold:
            continue
        label = METRIC_LABELS.get(name, name)
        findings.append(
            Finding(
                signal=Signal.METRIC_SATURATION,
                text=f"{label}: {reading.value:g}/{reading.limit:g} "
                f"({round(100 * reading.ratio)}%) on {agent}",
                agent=agent,
                observed_at=reading.observed_at,
                data={"metric": name, "ratio": reading.ratio, "threshold": threshold},
            )
        )
    return findings


def detect_metric_shifts(snapshot: EvidenceSnapshot) -> list[Finding]:
    baselines = metric_baselines(snapshot=snapshot)
    findings = []
    for key, reading in latest_readings(snapshot).items():
        baseline = reading.baseline if reading.baseline is not None else baselines.get(key)
        if not baseline or baseline <= 0:
            continue
        scale = reading.limit or baseline
        rise = reading.value - baseline
        if reading.value < baseline * METRIC_SHIFT_FACTOR or rise < scale * METRIC_SHIFT_MIN_SHARE:
            continue
        name, agent = key
        label = METRIC_LABELS.get(name, name)
        findings.append(
            Finding(
                signal=Signal.METRIC_SHIFT,
                text=f"{label} on {agent}: {reading.value:g} now, {baseline:.3g} on average over "
                f"the previous 24 hours (+{round(100 * rise / baseline)}%)",
                agent=agent,
                observed_at=reading.observed_at,
                data={"metric": name, "value": reading.value, "baseline": baseline},
            )
        )
    return findings


def metric_baselines(*, snapshot: EvidenceSnapshot) -> dict[tuple[str, str], float]:
    """Return the mean of readings older than the recent window, per metric and agent."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for reading in snapshot.metrics:
        if reading.observed_at < snapshot.recent_since:
            values[(metric_name(reading), reading.agent)].append(reading.value)
    return {key: sum(series) / len(series) for key, series in values.items()}


def detect_alerts(snapshot: EvidenceSnapshot) -> list[Finding]:
    return [
        Finding(
            signal=Signal.ALERT,
            text=alert_text(alert=alert),
            agent=alert.agent or None,
            observed_at=alert.started_at,
            template=alert.name,
            example=f"{alert.name} {alert.summary}",
            data={"alert": alert.name, "severity": alert.severity},
        )
        for alert in snapshot.alerts
    ]


def alert_text(*, alert: AlertState) -> str:
    text = f"Alert {alert.name} ({alert.severity or 'no severity'}) firing"
    if alert.agent:
        text += f" on {alert.agent}"
    if alert.summary:
        text += f": '{message_excerpt(text=alert.summary)}'"
    return text


def detect_template_changes(snapshot: EvidenceSnapshot) -> list[Finding]:
    findings = []
    for stats in snapshot.templates:
        if stats.recent_count < TEMPLATE_MIN_RECENT:
            continue
        if template_is_new(snapshot=snapshot, stats=stats):
            findings.append(template_new_finding(snapshot=snapshot, stats=stats))
        elif template_bursts(stats=stats):
            findings.append(template_burst_finding(snapshot=snapshot, stats=stats))
    return findings


def template_is_new(*, snapshot: EvidenceSnapshot, stats: TemplateStats) -> bool:
    """Return whether neither the customer nor the agent logged the template before."""
    if stats.first_seen_at is not None and stats.first_seen_at >= snapshot.recent_since:
        return True
    return stats.baseline_count == 0 and stats.agent_baseline_count == 0


def template_bursts(*, stats: TemplateStats) -> bool:
    own = rate_ratio(recent=stats.recent_count, baseline=stats.baseline_count)
    agent = rate_ratio(recent=stats.agent_recent_count, baseline=stats.agent_baseline_count)
    return own >= TEMPLATE_BURST_FACTOR or agent >= TEMPLATE_BURST_FACTOR


def rate_ratio(*, recent: int, baseline: int) -> float:
    """Return the recent hourly rate over the baseline hourly rate, at least one record a day."""
    baseline_rate = max(baseline, 1) / BASELINE_HOURS
    return recent / baseline_rate


def template_new_finding(*, snapshot: EvidenceSnapshot, stats: TemplateStats) -> Finding:
    return Finding(
        signal=Signal.TEMPLATE_NEW,
        text=f"New error log template in {stats.agent}: '{message_excerpt(text=stats.template)}' "
        f"({stats.recent_count} records in the last hour, none in the 23 hours before)",
        agent=stats.agent,
        observed_at=stats.first_seen_at or snapshot.recent_since,
        template=stats.template,
        example=stats.example,
        data={"count": stats.recent_count, "agent_count": stats.agent_recent_count},
    )


def template_burst_finding(*, snapshot: EvidenceSnapshot, stats: TemplateStats) -> Finding:
    baseline_rate = stats.baseline_count / BASELINE_HOURS
    return Finding(
        signal=Signal.TEMPLATE_BURST,
        text=f"Error log template bursting in {stats.agent}: "
        f"'{message_excerpt(text=stats.template)}' ({stats.recent_count} records in the last "
        f"hour, {baseline_rate:.1f} per hour before; {stats.agent_recent_count} across customers)",
        agent=stats.agent,
        observed_at=snapshot.recent_since,
        template=stats.template,
        example=stats.example,
        data={"count": stats.recent_count, "baseline_count": stats.baseline_count},
    )


def detect_latency_shifts(snapshot: EvidenceSnapshot) -> list[Finding]:
    return [
        latency_finding(operation=operation)
        for operation in snapshot.operations
        if latency_shifted(operation=operation)
    ]


def latency_shifted(*, operation: OperationStats) -> bool:
    recent = operation.recent_success_avg_ms
    baseline = operation.baseline_success_avg_ms
    if recent is None or baseline is None or baseline <= 0:
        return False
    if operation.recent_successes < LATENCY_MIN_RECENT_CALLS:
        return False
    if operation.baseline_successes < LATENCY_MIN_BASELINE_CALLS:
        return False
    return recent >= baseline * LATENCY_SHIFT_FACTOR and recent - baseline >= LATENCY_MIN_RISE_MS


def latency_finding(*, operation: OperationStats) -> Finding:
    recent = round(operation.recent_success_avg_ms or 0)
    baseline = round(operation.baseline_success_avg_ms or 0)
    return Finding(
        signal=Signal.LATENCY_SHIFT,
        text=f"Latency: successful {operation.operation} calls to {operation.agent} take "
        f"{recent} ms on average in the last hour, {baseline} ms before",
        agent=operation.agent,
        operation=operation.operation,
        observed_at=operation.last_success_at,
        data={"recent_ms": recent, "baseline_ms": baseline},
    )
