"""Diagnoses made by the Issue Detective. A resolved diagnosis is a past issue later ones cite."""

import uuid

from django.conf import settings
from django.db import models


def new_diagnosis_id() -> str:
    return f"diag-{uuid.uuid4().hex[:12]}"


class Diagnosis(models.Model):
    diagnosis_id = models.CharField(max_length=32, unique=True, default=new_diagnosis_id)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="diagnoses"
    )
    issue_description = models.TextField(blank=True)
    # Stable fault code from the fault catalog, or "none" when nothing was found.
    kind = models.CharField(max_length=64, db_index=True)
    component = models.CharField(max_length=128, blank=True)
    summary = models.TextField()
    confidence = models.FloatField()
    # Fault kind, component and error template: the first key for finding similar past issues.
    fingerprint = models.CharField(max_length=256, blank=True, db_index=True)
    # The full response as the API returns it.
    result = models.JSONField(default=dict)
    # Trial and agent statuses the diagnosis saw, to tell when newer evidence makes it stale:
    # {"trials": {trial_id: status}, "agents": {name: [platform_status, customer_status]}}.
    evidence_state = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="diagnoses",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolved_diagnoses",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "diagnoses"
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="diagnosis_customer_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.diagnosis_id} {self.kind}"


def new_active_issue_id() -> str:
    return f"issue-{uuid.uuid4().hex[:12]}"


class ActiveIssue(models.Model):
    """A problem the scan found in current evidence, kept open until the evidence clears.

    One open issue per fingerprint: repeats, for the same customer or for others, merge into it.
    `customer` is set while exactly one customer is affected and is null for a platform-wide
    issue. ActiveIssueCustomer rows list every affected customer either way. An issue from a
    platform signal is always platform-wide and lists the customers its agent serves.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        MAJOR = "major", "Major"
        MINOR = "minor", "Minor"

    class Source(models.TextChoices):
        # Opened from customers' diagnoses.
        CUSTOMERS = "customers", "Customer evidence"
        # Opened from a platform alert or metric with no customer's errors behind it.
        PLATFORM = "platform", "Platform signal"

    SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2}

    issue_id = models.CharField(max_length=32, unique=True, default=new_active_issue_id)
    kind = models.CharField(max_length=64)
    component = models.CharField(max_length=128, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="active_issues",
    )
    fingerprint = models.CharField(max_length=256)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MINOR)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CUSTOMERS)
    summary = models.TextField()
    confidence = models.FloatField(default=0.0)
    # Times of the evidence, not of the scans: first and newest problem seen.
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # Failed calls, blocked trials and firing alerts behind the issue, summed over customers.
    occurrences = models.PositiveIntegerField(default=0)
    customers_affected = models.PositiveIntegerField(default=0)
    trials_affected = models.PositiveIntegerField(default=0)
    latest_diagnosis = models.ForeignKey(
        Diagnosis, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(status="open"),
                name="active_issue_open_fingerprint_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-last_seen"], name="active_issue_status_seen_idx"),
            models.Index(fields=["fingerprint", "-resolved_at"], name="active_issue_fp_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.kind} {self.component} ({self.status})"

    @property
    def is_platform_wide(self) -> bool:
        return self.customer_id is None


class ActiveIssueCustomer(models.Model):
    """One customer affected by an active issue, with that customer's newest diagnosis."""

    issue = models.ForeignKey(ActiveIssue, on_delete=models.CASCADE, related_name="affected")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="active_issue_links"
    )
    diagnosis = models.ForeignKey(
        Diagnosis, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=0)
    trial_ids = models.JSONField(default=list, blank=True)
    # Set when a scan found the customer's evidence clear of the issue; null while affected.
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "customer"], name="active_issue_customer_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "cleared_at"], name="active_issue_link_customer_idx"),
            models.Index(
                fields=["issue", "cleared_at", "-last_seen"], name="active_issue_link_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} for {self.customer_id}"


class ScanState(models.Model):
    """When the proactive scan last ran: one row per scan name, claimed before each run.

    The claim is a conditional UPDATE, so web processes and the Celery worker never run the scan
    twice within its interval, whatever cache each of them uses.
    """

    ACTIVE_ISSUES = "active-issues"

    name = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.name} started {self.started_at}"
