"""Reads of ingest state and of the stored evidence: metric samples, alerts, log templates."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, Window
from django.db.models.functions import Coalesce, RowNumber

from customers.models import Customer
from telemetry.models import Alert, IngestCounter, LogRecord, MetricSample


def ingest_counters_get(*, names: Iterable[str]) -> dict[str, int]:
    """Return the current value of each named counter, zero for a counter never written."""
    names = list(names)
    values = dict(IngestCounter.objects.filter(name__in=names).values_list("name", "value"))
    return {name: values.get(name, 0) for name in names}


# Metrics

# Metric names the product reads. The database and process names follow the OpenTelemetry
# semantic conventions 1.44.0 (opentelemetry-semantic-conventions 0.66b2). The queue names are
# the product's own, because the conventions define no queue depth metric.
DB_CONNECTION_COUNT = "db.client.connection.count"
DB_CONNECTION_MAX = "db.client.connection.max"
# Names of the same metrics before semantic conventions 1.26, still read.
DB_CONNECTIONS_USAGE = "db.client.connections.usage"
DB_CONNECTIONS_MAX = "db.client.connections.max"
QUEUE_DEPTH = "messaging.queue.depth"
QUEUE_CAPACITY = "messaging.queue.capacity"
QUEUE_OLDEST_AGE = "messaging.queue.oldest_message_age"
CPU_UTILIZATION = "process.cpu.utilization"
MEMORY_UTILIZATION = "process.memory.utilization"

POOL_NAME_ATTRIBUTES = ("db.client.connection.pool.name", "pool.name")
POOL_STATE_ATTRIBUTES = ("db.client.connection.state", "state")
QUEUE_NAME_ATTRIBUTES = ("messaging.destination.name", "queue.name")
SATURATION_METRICS = (
    DB_CONNECTION_COUNT,
    DB_CONNECTION_MAX,
    DB_CONNECTIONS_USAGE,
    DB_CONNECTIONS_MAX,
    QUEUE_DEPTH,
    QUEUE_CAPACITY,
    QUEUE_OLDEST_AGE,
    CPU_UTILIZATION,
    MEMORY_UTILIZATION,
)
LATEST_SAMPLE_LIMIT = 1000


def metric_latest_list(
    *,
    names: Iterable[str],
    since: datetime,
    customer: Customer | None = None,
    include_platform: bool = True,
    limit: int = LATEST_SAMPLE_LIMIT,
) -> list[MetricSample]:
    """Return the latest sample of each series of the named metrics since `since`, in one query.

    With a customer, the series are that customer's and, with include_platform, the platform-wide
    ones (no customer). Without a customer, every series. Agent and customer come joined.
    """
    samples = MetricSample.objects.filter(name__in=list(names), timestamp__gte=since)
    if customer is not None:
        scope = Q(customer=customer)
        if include_platform:
            scope |= Q(customer__isnull=True)
        samples = samples.filter(scope)

    latest = Window(RowNumber(), partition_by=[F("series")], order_by=F("timestamp").desc())
    return list(
        samples.annotate(position=latest)
        .filter(position=1)
        .select_related("agent", "customer")
        .order_by("name", "agent__name", "series")[:limit]
    )


@dataclass(frozen=True)
class SaturationReading:
    """A resource in use out of its limit, such as database connections out of the pool size.

    `metric` is the metric that contains the value (db.client.connection.count,
    messaging.queue.depth, process.cpu.utilization or process.memory.utilization). Utilization
    ratios are given as a percentage of 100.
    """

    metric: str
    agent: str
    value: float
    limit: float
    unit: str
    observed_at: datetime
    # The pool or queue the reading is about; empty for process readings.
    resource: str = ""
    # None for a platform-wide series.
    customer_id: str | None = None


def saturation_readings_get(
    *, since: datetime, customer: Customer | None = None
) -> list[SaturationReading]:
    """Return the latest pool, queue, CPU and memory readings, in one query.

    A customer's own series hides the platform-wide series of the same metric, agent and pool or
    queue. Connections in use without a known pool size, and queue depths without a capacity,
    are left out, because a reading needs a limit. Readings come oldest first and, at the same
    time, least saturated first, so a reader that keeps the last reading per metric and agent
    keeps the fullest pool or queue.
    """
    samples = metric_latest_list(names=SATURATION_METRICS, since=since, customer=customer)
    readings = [
        *_pool_readings(samples=samples),
        *_queue_readings(samples=samples),
        *_utilization_readings(samples=samples),
    ]
    customer_scoped = {
        (r.metric, r.agent, r.resource) for r in readings if r.customer_id is not None
    }
    kept = [
        reading
        for reading in readings
        if reading.customer_id is not None
        or (reading.metric, reading.agent, reading.resource) not in customer_scoped
    ]
    return sorted(kept, key=lambda r: (r.observed_at, r.value / r.limit if r.limit else 0.0))


def _attribute(sample: MetricSample, names: tuple[str, ...]) -> str:
    return next((str(sample.attributes[name]) for name in names if name in sample.attributes), "")


def _scope(sample: MetricSample, names: tuple[str, ...]) -> tuple:
    customer_id = sample.customer.customer_id if sample.customer else None
    return sample.agent.name, customer_id, _attribute(sample, names)


def _pool_readings(*, samples: list[MetricSample]) -> list[SaturationReading]:
    limits = {
        _scope(s, POOL_NAME_ATTRIBUTES): s
        for s in samples
        if s.name in (DB_CONNECTION_MAX, DB_CONNECTIONS_MAX)
    }
    readings = []
    for sample in samples:
        if sample.name not in (DB_CONNECTION_COUNT, DB_CONNECTIONS_USAGE):
            continue
        if _attribute(sample, POOL_STATE_ATTRIBUTES) != "used":
            continue
        agent, customer_id, pool = _scope(sample, POOL_NAME_ATTRIBUTES)
        # A customer's pool may report only its use; its size then comes from the platform series.
        limit = limits.get((agent, customer_id, pool)) or limits.get((agent, None, pool))
        if limit is None:
            continue
        readings.append(
            SaturationReading(
                metric=DB_CONNECTION_COUNT,
                agent=agent,
                value=sample.value,
                limit=limit.value,
                unit=sample.unit,
                observed_at=sample.timestamp,
                resource=pool,
                customer_id=customer_id,
            )
        )
    return readings


def _queue_readings(*, samples: list[MetricSample]) -> list[SaturationReading]:
    capacities = {_scope(s, QUEUE_NAME_ATTRIBUTES): s for s in samples if s.name == QUEUE_CAPACITY}
    readings = []
    for sample in samples:
        if sample.name != QUEUE_DEPTH:
            continue
        agent, customer_id, queue = _scope(sample, QUEUE_NAME_ATTRIBUTES)
        capacity = capacities.get((agent, customer_id, queue)) or capacities.get(
            (agent, None, queue)
        )
        if capacity is None:
            continue
        readings.append(
            SaturationReading(
                metric=QUEUE_DEPTH,
                agent=agent,
                value=sample.value,
                limit=capacity.value,
                unit=sample.unit,
                observed_at=sample.timestamp,
                resource=queue,
                customer_id=customer_id,
            )
        )
    return readings


def _utilization_readings(*, samples: list[MetricSample]) -> list[SaturationReading]:
    return [
        SaturationReading(
            metric=sample.name,
            agent=sample.agent.name,
            value=round(sample.value * 100, 1),
            limit=100.0,
            unit="%",
            observed_at=sample.timestamp,
            customer_id=sample.customer.customer_id if sample.customer else None,
        )
        for sample in samples
        if sample.name in (CPU_UTILIZATION, MEMORY_UTILIZATION)
    ]


# Alerts

ALERT_LIMIT = 50


def alerts_firing_list(
    *, customer: Customer | None = None, include_platform: bool = True, limit: int = ALERT_LIMIT
) -> list[Alert]:
    """Return firing alerts, newest first, in one query.

    With a customer: that customer's alerts and, with include_platform, alerts without a
    customer label. Agent and customer come joined.
    """
    alerts = Alert.objects.filter(status=Alert.Status.FIRING)
    if customer is not None:
        scope = Q(customer=customer)
        if include_platform:
            scope |= Q(customer__isnull=True)
        alerts = alerts.filter(scope)
    return list(alerts.select_related("agent", "customer").order_by("-starts_at", "-id")[:limit])


# Log templates

TEMPLATE_COUNT_LIMIT = 200


@dataclass(frozen=True)
class TemplateCount:
    """How often one log template occurred for one agent in a window and in its baseline."""

    template_id: int
    cluster_id: int
    template: str
    agent: str
    count: int
    baseline_count: int
    first_seen: datetime

    @property
    def is_new(self) -> bool:
        """Whether the template never occurred for this agent in the baseline window."""
        return self.baseline_count == 0


def log_template_counts_list(
    *,
    since: datetime,
    until: datetime,
    baseline_since: datetime,
    baseline_until: datetime | None = None,
    customer: Customer | None = None,
    agent_name: str | None = None,
    min_severity_number: int = 0,
    limit: int = TEMPLATE_COUNT_LIMIT,
) -> list[TemplateCount]:
    """Count log records per template and agent in [since, until) and in the baseline window.

    The baseline runs from baseline_since to baseline_until (default: since). Only templates that
    occurred in the window are returned, most frequent first, in one query. The agent is the
    joined interaction's agent, else the record's service name. To find new or bursting error
    templates, pass min_severity_number=17 and compare count with baseline_count, scaled by the
    two windows' lengths.
    """
    baseline_until = baseline_until or since
    records = LogRecord.objects.filter(
        template__isnull=False,
        timestamp__gte=min(since, baseline_since),
        timestamp__lt=max(until, baseline_until),
    )
    if customer is not None:
        records = records.filter(customer=customer)
    if min_severity_number:
        records = records.filter(severity_number__gte=min_severity_number)
    records = records.annotate(
        agent_name=Coalesce(F("interaction__agent__name"), F("service_name"))
    )
    if agent_name is not None:
        records = records.filter(agent_name=agent_name)

    in_window = Q(timestamp__gte=since, timestamp__lt=until)
    in_baseline = Q(timestamp__gte=baseline_since, timestamp__lt=baseline_until)
    rows = (
        records.values(
            "template_id",
            "template__cluster_id",
            "template__template",
            "template__first_seen",
            "agent_name",
        )
        .annotate(
            count=Count("id", filter=in_window), baseline_count=Count("id", filter=in_baseline)
        )
        .filter(count__gt=0)
        .order_by("-count", "template_id", "agent_name")[:limit]
    )
    return [
        TemplateCount(
            template_id=row["template_id"],
            cluster_id=row["template__cluster_id"],
            template=row["template__template"],
            agent=row["agent_name"],
            count=row["count"],
            baseline_count=row["baseline_count"],
            first_seen=row["template__first_seen"],
        )
        for row in rows
    ]
