"""Quick actions: operator-requested changes on the agent platform, stored before they run."""

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


def new_action_id() -> str:
    return f"act-{uuid.uuid4().hex[:12]}"


class QuickAction(models.Model):
    class Kind(models.TextChoices):
        RESTART_AGENT = "restart_agent", "Restart agent"
        RETRY_WORKFLOW = "retry_workflow", "Retry workflow"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    action_id = models.CharField(max_length=32, unique=True, default=new_action_id)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="quick_actions"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Kind-specific arguments: {"agent": ...} or {"workflow_id": ..., "from_step": ...}.
    params = models.JSONField(default=dict)
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quick_actions"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the platform returned, and for a failure, what the operator can try next.
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["customer", "-requested_at"], name="action_customer_time_idx"),
            models.Index(fields=["status", "requested_at"], name="action_status_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id} {self.kind} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES
