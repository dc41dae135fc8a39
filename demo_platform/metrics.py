"""The platform's metrics: database pools, queues, CPU and memory of each agent.

`platform_readings` computes the values at one moment from the active faults. The live platform
exports them with the OpenTelemetry metrics SDK: one MeterProvider, a
PeriodicExportingMetricReader and the OTLP/HTTP exporter. `metric_history_request` builds the
same series for past moments, for the demo load. Every point names its agent in
`gen_ai.agent.name`, and a customer's own instance adds `customer.id`.
"""

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, NumberDataPoint

from demo_platform.workflow import AGENTS
from demo_platform.world import Fault

RESOURCE = {
    "service.name": "wow-platform",
    "service.namespace": "wow-platform",
    "deployment.environment.name": "demo",
}
INSTRUMENTATION_SCOPE = "demo_platform"

# Names and units follow the OpenTelemetry semantic conventions 1.44.0 where they define one; the
# queue metrics are the help desk's own names.
POOL_COUNT = "db.client.connection.count"
POOL_MAX = "db.client.connection.max"
QUEUE_DEPTH = "messaging.queue.depth"
QUEUE_CAPACITY = "messaging.queue.capacity"
QUEUE_OLDEST_AGE = "messaging.queue.oldest_message_age"
CPU_UTILIZATION = "process.cpu.utilization"
MEMORY_UTILIZATION = "process.memory.utilization"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    # "updowncounter" exports as a non-monotonic cumulative sum, "gauge" as a gauge.
    instrument: str
    unit: str
    description: str


METRICS = (
    MetricSpec(POOL_COUNT, "updowncounter", "{connection}", "Connections by state."),
    MetricSpec(POOL_MAX, "updowncounter", "{connection}", "Size of the connection pool."),
    MetricSpec(QUEUE_DEPTH, "gauge", "{message}", "Messages waiting in the queue."),
    MetricSpec(QUEUE_CAPACITY, "gauge", "{message}", "Messages the queue holds at most."),
    MetricSpec(QUEUE_OLDEST_AGE, "gauge", "s", "Age of the oldest waiting message."),
    MetricSpec(CPU_UTILIZATION, "gauge", "1", "CPU time used, as a share of available CPU."),
    MetricSpec(MEMORY_UTILIZATION, "gauge", "1", "Share of physical memory in use."),
)

POOL_SIZE = 100
EXHAUSTED_POOL_USED = 95
QUEUE_OWNER = "WowOrchestrator"
QUEUES = ("orchestration.tasks", "agent.commands")
BACKLOGGED_QUEUE = "orchestration.tasks"
QUEUE_SIZE = 300
BACKLOG_DEPTH = 250
# The backlog fault's consumer has been gone this long when the fault starts, in seconds.
BACKLOG_MIN_AGE_SECONDS = 300


@dataclass(frozen=True)
class Reading:
    metric: str
    agent: str
    value: float
    attributes: dict


def pool_name(agent: str) -> str:
    return f"{agent.lower()}-primary"


def platform_readings(
    *,
    faults: Iterable[Fault],
    instances: Iterable[tuple[str, str]],
    rng: random.Random,
    now: datetime,
) -> list[Reading]:
    """Compute every reading at `now`: platform-wide ones, then those of customer instances.

    `instances` are (customer id, agent) pairs with a series of their own: the instances a
    customer-scoped fault ever touched. They keep reporting after the fault clears, so their
    latest value is never a stale one.
    """
    faults = list(faults)
    platform_faults = [fault for fault in faults if fault.customer_id is None]
    readings = []
    for agent in AGENTS:
        readings.extend(_pool_readings(agent=agent, faults=platform_faults, scope={}, rng=rng))
        readings.append(Reading(CPU_UTILIZATION, agent, round(rng.uniform(0.15, 0.45), 3), {}))
        readings.append(Reading(MEMORY_UTILIZATION, agent, round(rng.uniform(0.35, 0.6), 3), {}))
    readings.extend(_queue_readings(faults=platform_faults, scope={}, rng=rng, now=now))

    for customer_id, agent in sorted(set(instances)):
        scoped = [fault for fault in faults if fault.customer_id in (None, customer_id)]
        scope = {"customer.id": customer_id}
        readings.extend(_pool_readings(agent=agent, faults=scoped, scope=scope, rng=rng))
        if agent == QUEUE_OWNER:
            readings.extend(_queue_readings(faults=scoped, scope=scope, rng=rng, now=now))
    return readings


def _pool_readings(
    *, agent: str, faults: list[Fault], scope: dict, rng: random.Random
) -> list[Reading]:
    exhausted = any(f.kind == "db_pool_exhausted" and f.agent == agent for f in faults)
    if exhausted:
        used, idle = EXHAUSTED_POOL_USED, 0
    else:
        used, idle = rng.randint(20, 40), rng.randint(5, 15)
    pool = {**scope, "db.client.connection.pool.name": pool_name(agent)}
    return [
        Reading(POOL_COUNT, agent, used, {**pool, "db.client.connection.state": "used"}),
        Reading(POOL_COUNT, agent, idle, {**pool, "db.client.connection.state": "idle"}),
        Reading(POOL_MAX, agent, POOL_SIZE, pool),
    ]


def _queue_readings(
    *, faults: list[Fault], scope: dict, rng: random.Random, now: datetime
) -> list[Reading]:
    backlog = next((f for f in faults if f.kind == "queue_backlog"), None)
    readings = []
    for queue in QUEUES:
        attributes = {**scope, "messaging.system": "rabbitmq", "messaging.destination.name": queue}
        if backlog is not None and queue == BACKLOGGED_QUEUE:
            waited = (now - backlog.created_at).total_seconds()
            depth = BACKLOG_DEPTH + rng.randint(0, 20)
            age = round(BACKLOG_MIN_AGE_SECONDS + max(0.0, waited), 1)
        else:
            depth, age = rng.randint(0, 15), round(rng.uniform(0.2, 3.0), 2)
        readings.append(Reading(QUEUE_DEPTH, QUEUE_OWNER, depth, attributes))
        readings.append(Reading(QUEUE_OLDEST_AGE, QUEUE_OWNER, age, attributes))
        readings.append(Reading(QUEUE_CAPACITY, QUEUE_OWNER, QUEUE_SIZE, attributes))
    return readings


def point_attributes(reading: Reading) -> dict:
    return {"gen_ai.agent.name": reading.agent, **reading.attributes}


class MetricsSource:
    """Readings of the live platform, computed once per collection and shared by the callbacks.

    `faults_read` returns the active faults; the caller makes it safe to call from the
    reader's thread.
    """

    # Callbacks of one collection run within this many seconds of each other.
    SNAPSHOT_SECONDS = 0.5

    def __init__(self, *, faults_read: Callable[[], list[Fault]], rng: random.Random):
        self.faults_read = faults_read
        self.rng = rng
        self.instances: set[tuple[str, str]] = set()
        self.lock = threading.Lock()
        self.taken_at = -1.0
        self.readings: list[Reading] = []

    def snapshot(self) -> list[Reading]:
        with self.lock:
            if time.monotonic() - self.taken_at > self.SNAPSHOT_SECONDS:
                faults = self.faults_read()
                self.instances |= {(f.customer_id, f.agent) for f in faults if f.customer_id}
                self.readings = platform_readings(
                    faults=faults,
                    instances=self.instances,
                    rng=self.rng,
                    now=datetime.now(UTC),
                )
                self.taken_at = time.monotonic()
            return self.readings

    def observations(self, name: str):
        from opentelemetry.metrics import Observation

        return [
            Observation(reading.value, point_attributes(reading))
            for reading in self.snapshot()
            if reading.metric == name
        ]


def meter_provider_create(*, source: MetricsSource, exporter, export_interval_millis: int):
    """Build a MeterProvider that reads `source` and exports through `exporter` periodically."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=export_interval_millis)
    provider = MeterProvider(resource=Resource.create(RESOURCE), metric_readers=[reader])
    meter = provider.get_meter(INSTRUMENTATION_SCOPE)
    for spec in METRICS:
        callback = _callback_for(source=source, name=spec.name)
        if spec.instrument == "updowncounter":
            meter.create_observable_up_down_counter(
                spec.name, callbacks=[callback], unit=spec.unit, description=spec.description
            )
        else:
            meter.create_observable_gauge(
                spec.name, callbacks=[callback], unit=spec.unit, description=spec.description
            )
    return provider


def _callback_for(*, source: MetricsSource, name: str):
    def observe(options):
        return source.observations(name)

    return observe


def metric_history_request(
    *,
    faults: Iterable[Fault],
    anchor: datetime,
    seed: int,
    duration: timedelta = timedelta(minutes=15),
    step: timedelta = timedelta(seconds=30),
) -> ExportMetricsServiceRequest:
    """Build the readings of the `duration` before `anchor`, one every `step`, as OTLP.

    A fault counts from its created_at, so a pool reads normal before its fault started.
    """
    faults = list(faults)
    instances = {(f.customer_id, f.agent) for f in faults if f.customer_id}
    rng = random.Random(seed)
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.extend(_key_values(RESOURCE))
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = INSTRUMENTATION_SCOPE
    metrics = {spec.name: _metric_add(scope_metrics=scope_metrics, spec=spec) for spec in METRICS}
    start_nanos = _nanos(anchor - duration)

    moment = anchor - duration + step
    while moment <= anchor:
        active = [fault for fault in faults if fault.created_at <= moment]
        readings = platform_readings(faults=active, instances=instances, rng=rng, now=moment)
        for reading in readings:
            point = NumberDataPoint(
                as_double=float(reading.value),
                time_unix_nano=_nanos(moment),
                start_time_unix_nano=start_nanos,
                attributes=_key_values(point_attributes(reading)),
            )
            metrics[reading.metric].data_points.append(point)
        moment += step
    return request


def _metric_add(*, scope_metrics, spec: MetricSpec):
    metric = scope_metrics.metrics.add(name=spec.name, unit=spec.unit, description=spec.description)
    if spec.instrument == "gauge":
        return metric.gauge
    metric.sum.aggregation_temporality = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
    metric.sum.is_monotonic = False
    return metric.sum


def _key_values(attributes: dict) -> list[KeyValue]:
    return [
        KeyValue(key=key, value=AnyValue(string_value=str(value)))
        for key, value in attributes.items()
    ]


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1000
