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
