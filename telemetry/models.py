"""Evidence received from the agent platform: interactions (spans), log records and their
templates, metric samples and alerts."""

import uuid

from django.db import models


class Interaction(models.Model):
    """One agent call, received as an OpenTelemetry span."""

    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        TIMEOUT = "timeout", "Timeout"

    # Null when the span carried no customer id; such spans are kept and counted, not dropped.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="interactions",
    )
    agent = models.ForeignKey(
        "customers.Agent", on_delete=models.PROTECT, related_name="interactions"
    )
    trial = models.ForeignKey(
        "customers.Trial",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    workflow_step = models.PositiveSmallIntegerField(null=True, blank=True)
    operation = models.CharField(max_length=256)
    service_name = models.CharField(max_length=256, blank=True)
    # Bodies are stored as the platform sent them (usually JSON text) and escaped on display.
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SUCCESS)
    error_type = models.CharField(max_length=256, blank=True)
    error_message = models.TextField(blank=True)
    retry_count = models.PositiveSmallIntegerField(default=0)
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    parent_span_id = models.CharField(max_length=16, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # True once the call is counted in OperationHour. Trace ingest stores calls counted. Rows
    # written past it, by bulk inserts or COPY, start False and are counted when first read.
    rolled_up = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["trace_id", "span_id"], name="interaction_span_unique"),
        ]
        indexes = [
            # Contains only calls not yet counted in OperationHour, so finding them is one lookup.
            models.Index(
                fields=["customer", "started_at"],
                condition=models.Q(rolled_up=False),
                name="ix_customer_time_unrolled",
            ),
            # Serves a customer's newest interactions, and covers agent and status so that the
            # search rows' recent-interaction lookup runs as an index-only scan on PostgreSQL.
            # INCLUDE is PostgreSQL-only, so on SQLite this is a plain index on the key columns.
            models.Index(
                fields=["customer", "-started_at", "-id"],
                include=["agent", "status"],
                name="ix_customer_time_status",
            ),
            models.Index(
                fields=["customer", "agent", "-started_at"], name="ix_customer_agent_time"
            ),
            # Covers every column the Issue Detective aggregates per agent operation and per
            # workflow step, so a day of a heavy customer's calls is read from the index alone.
            models.Index(
                fields=[
                    "customer",
                    "started_at",
                    "agent",
                    "operation",
                    "status",
                    "retry_count",
                    "duration_ms",
                    "trial",
                    "workflow_step",
                ],
                name="ix_customer_time_calls",
            ),
            models.Index(fields=["agent", "status", "-started_at"], name="ix_agent_status_time"),
            models.Index(fields=["trial", "-started_at"], name="ix_trial_time"),
            # The system diagnosis reads every customer's calls of a time window.
            models.Index(fields=["started_at"], name="ix_interaction_started"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.operation} {self.span_id}"


class OperationHour(models.Model):
    """Call counts of one customer's agent operation in one UTC clock hour.

    The rollup of Interaction rows that the Issue Detective reads in place of a day of raw calls.
    Trace ingest adds each new interaction to its hour. Rows that bypassed ingest are added when
    a read first needs their hour (see Interaction.rolled_up and telemetry.operation_hours).
    """

    # No index of its own: the unique constraint's index starts with the customer.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="operation_hours",
        db_index=False,
    )
    agent = models.ForeignKey(
        "customers.Agent", on_delete=models.CASCADE, related_name="operation_hours"
    )
    operation = models.CharField(max_length=256)
    # Start of the hour, in UTC. The row counts the calls with hour <= started_at < hour + 1 hour.
    hour = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    timeouts = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    # Sum of the successful calls' durations, so that means over several hours stay exact.
    success_duration_ms = models.PositiveBigIntegerField(default=0)
    max_retries = models.PositiveSmallIntegerField(default=0)
    first_problem_at = models.DateTimeField(null=True, blank=True)
    last_problem_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Also the index that reads a customer's hours in a time range.
            models.UniqueConstraint(
                fields=["customer", "hour", "agent", "operation"], name="operation_hour_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.operation} {self.hour:%Y-%m-%dT%H} calls={self.calls}"


class LogRecord(models.Model):
    """A log record, joined to its interaction by trace and span id when one matches."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, null=True, blank=True, related_name="logs"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="log_records",
    )
    service_name = models.CharField(max_length=256, blank=True)
    timestamp = models.DateTimeField()
    severity_number = models.PositiveSmallIntegerField(default=0)
    severity_text = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    trace_id = models.CharField(max_length=32, blank=True)
    span_id = models.CharField(max_length=16, blank=True)
    # The drain3 template mined from the body; null for an empty body.
    template = models.ForeignKey(
        "LogTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="log_records",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["trace_id", "span_id"], name="log_span_idx"),
            models.Index(fields=["interaction", "timestamp"], name="log_interaction_time_idx"),
            models.Index(fields=["customer", "-timestamp"], name="log_customer_time_idx"),
            models.Index(fields=["timestamp", "template"], name="log_time_template_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.severity_text} {self.body[:60]}"


class IngestCounter(models.Model):
    """Running totals of what ingest accepted, rejected or could not attribute, by name."""

    name = models.CharField(max_length=64, unique=True)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class LogTemplate(models.Model):
    """A log message pattern that drain3 mined from log bodies, with ids and numbers masked.

    The rows are the miner's state: every process rebuilds its drain3 tree from them, so a
    template keeps its cluster id across restarts and across processes.
    """

    cluster_id = models.PositiveIntegerField(unique=True)
    template = models.TextField()
    # LogTemplateMinerState.revision when the row was created or its template last changed.
    revision = models.PositiveBigIntegerField(default=0, db_index=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster_id"]

    def __str__(self) -> str:
        return f"{self.cluster_id}: {self.template[:60]}"


class LogTemplateMinerState(models.Model):
    """The one row that log ingest locks while it mines, and the version of the template set.

    `revision` grows whenever a template is created or changed and `token` changes with it, so a
    process can tell whether its cached miner still matches the table. `generation` changes when
    the row is created again, for example on an emptied database.
    """

    generation = models.UUIDField(default=uuid.uuid4)
    revision = models.PositiveBigIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"revision {self.revision}"


class MetricSample(models.Model):
    """One OTLP metric data point: a gauge or sum value, or a histogram's count, sum and buckets."""

    class Kind(models.TextChoices):
        GAUGE = "gauge", "Gauge"
        SUM = "sum", "Sum"
        HISTOGRAM = "histogram", "Histogram"
        EXPONENTIAL_HISTOGRAM = "exponential_histogram", "Exponential histogram"
        SUMMARY = "summary", "Summary"

    class Temporality(models.TextChoices):
        UNSPECIFIED = "", "Unspecified"
        DELTA = "delta", "Delta"
        CUMULATIVE = "cumulative", "Cumulative"

    name = models.CharField(max_length=256)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    unit = models.CharField(max_length=64, blank=True)
    agent = models.ForeignKey(
        "customers.Agent", on_delete=models.PROTECT, related_name="metric_samples"
    )
    # Null for a platform-wide series; set when the point or its resource carried customer.id.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="metric_samples",
    )
    service_name = models.CharField(max_length=256, blank=True)
    # Data point attributes, without customer.id and gen_ai.agent.name, which have columns.
    attributes = models.JSONField(default=dict, blank=True)
    # Hash of name, kind, agent, customer and attributes: one value per time series.
    series = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    start_timestamp = models.DateTimeField(null=True, blank=True)
    # Gauge or sum value; for histograms and summaries the sum of the observations.
    value = models.FloatField()
    # Histograms and summaries only: how many observations, and their sum when sent.
    count = models.PositiveBigIntegerField(null=True, blank=True)
    sum = models.FloatField(null=True, blank=True)
    # Histograms only: explicit bounds and counts, or the exponential scale and buckets.
    buckets = models.JSONField(null=True, blank=True)
    temporality = models.CharField(
        max_length=10, choices=Temporality.choices, blank=True, default=Temporality.UNSPECIFIED
    )
    # Sums only: a monotonic cumulative sum stores the running total as sent.
    is_monotonic = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "timestamp"], name="metric_point_unique"),
        ]
        indexes = [
            models.Index(fields=["name", "agent", "-timestamp"], name="metric_name_agent_time_idx"),
            models.Index(fields=["customer", "-timestamp"], name="metric_customer_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value:g} {self.timestamp:%Y-%m-%dT%H:%M:%S}"


class Alert(models.Model):
    """An Alertmanager alert, updated in place by fingerprint as notifications arrive."""

    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    fingerprint = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=256)
    status = models.CharField(max_length=8, choices=Status.choices)
    severity = models.CharField(max_length=32, blank=True)
    summary = models.TextField(blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField()
    # Null while firing; the time Alertmanager reported the alert resolved.
    ends_at = models.DateTimeField(null=True, blank=True)
    generator_url = models.TextField(blank=True)
    agent = models.ForeignKey(
        "customers.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
    )
    receiver = models.CharField(max_length=256, blank=True)
    group_key = models.TextField(blank=True)
    external_url = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-starts_at"], name="alert_status_time_idx"),
            models.Index(fields=["customer", "status"], name="alert_customer_status_idx"),
            models.Index(fields=["agent", "status"], name="alert_agent_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status}) {self.fingerprint}"
