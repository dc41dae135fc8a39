"""Evidence received from the agent platform: interactions (spans) and their log records."""

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

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["trace_id", "span_id"], name="interaction_span_unique"),
        ]
        indexes = [
            models.Index(fields=["customer", "-started_at", "-id"], name="ix_customer_time"),
            models.Index(
                fields=["customer", "agent", "-started_at"], name="ix_customer_agent_time"
            ),
            models.Index(fields=["agent", "status", "-started_at"], name="ix_agent_status_time"),
            models.Index(fields=["trial", "-started_at"], name="ix_trial_time"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.operation} {self.span_id}"


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
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["trace_id", "span_id"], name="log_span_idx"),
            models.Index(fields=["interaction", "timestamp"], name="log_interaction_time_idx"),
            models.Index(fields=["customer", "-timestamp"], name="log_customer_time_idx"),
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
