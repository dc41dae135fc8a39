"""Customers of the agent platform, their trials and the agents serving them.

The platform is the source of truth for all of these: rows are written only by the ingest of its
state events and telemetry, never by operators.
"""

from django.db import models
from django.db.models.functions import Lower


class Customer(models.Model):
    customer_id = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=256, blank=True)
    email = models.CharField(max_length=320, blank=True)
    # Lower-cased email without a "+tag" in its local part, so that search finds either form.
    email_normalized = models.CharField(max_length=320, blank=True, db_index=True)
    phone = models.CharField(max_length=64, blank=True)
    # E.164 when the phonenumbers library can read the number, else its digits alone.
    phone_normalized = models.CharField(max_length=64, blank=True, db_index=True)
    company = models.CharField(max_length=256, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept current by ingest so that lists and search never aggregate interactions.
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["customer_id"]
        indexes = [
            models.Index(Lower("name"), name="customer_name_lower_idx"),
            models.Index(Lower("company"), name="customer_company_lower_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.customer_id} ({self.customer_id})"


class Agent(models.Model):
    """A platform agent such as WowMemory, with its platform-wide status."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        DEGRADED = "DEGRADED", "Degraded"
        RESTARTING = "RESTARTING", "Restarting"
        DOWN = "DOWN", "Down"
        UNKNOWN = "UNKNOWN", "Unknown"

    name = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN)
    version = models.CharField(max_length=64, blank=True)
    # When the version last changed, so that the detective can tie symptoms to a deploy.
    version_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentAssignment(models.Model):
    """An agent serving one customer, with counters ingest keeps current."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="assignments")
    # Status of this agent's instance for the customer, as the platform last reported it.
    status = models.CharField(
        max_length=16, choices=Agent.Status.choices, default=Agent.Status.RUNNING
    )
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    interaction_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    timeout_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["agent__name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "agent"], name="assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} for {self.customer.customer_id}"


class Trial(models.Model):
    """A customer's trial: one run of a multi-step workflow on the platform."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        STUCK = "STUCK", "Stuck"
        FAILED = "FAILED", "Failed"
        COMPLETED = "COMPLETED", "Completed"

    ACTIVE_STATUSES = (Status.RUNNING, Status.STUCK, Status.FAILED)
    PROBLEM_STATUSES = (Status.STUCK, Status.FAILED)

    trial_id = models.CharField(max_length=128, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="trials")
    plan = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    current_step = models.PositiveSmallIntegerField(default=1)
    total_steps = models.PositiveSmallIntegerField(default=15)
    step_name = models.CharField(max_length=128, blank=True)
    # Message the platform sent with the last progress event, such as the failing step's error.
    status_detail = models.TextField(blank=True)
    agents_involved = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    # When current_step was entered; a step that sits longer than usual is stuck.
    step_started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # occurred_at of the progress event the status and step come from. An event that occurred
    # earlier but arrives later is older news and leaves them alone.
    progress_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["customer", "-started_at"], name="trial_customer_started_idx"),
            models.Index(fields=["status", "-last_activity_at"], name="trial_status_activity_idx"),
        ]

    def __str__(self) -> str:
        return self.trial_id

    @property
    def progress_percent(self) -> int:
        """Share of steps done, where a trial at step 7 of 15 has finished 7 of them (47%)."""
        if self.status == self.Status.COMPLETED:
            return 100
        if not self.total_steps:
            return 0
        return round(100 * self.current_step / self.total_steps)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class HealthSnapshot(models.Model):
    """A customer's health score at one moment, kept to draw the score's trend.

    At most one row per customer and clock hour: the unique hour column stops two processes that
    compute the score at the same moment from both recording it, and its index serves the
    trend's range query.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="health_snapshots"
    )
    taken_at = models.DateTimeField()
    # taken_at truncated to the hour, in UTC.
    hour = models.DateTimeField()
    score = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16)

    class Meta:
        ordering = ["customer", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "hour"], name="health_snapshot_hour_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.score} at {self.taken_at:%Y-%m-%d %H:%M}"
