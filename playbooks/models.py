"""Playbooks: documented resolutions for known fault kinds, with every version kept."""

from django.db import models
from simple_history.models import HistoricalRecords


class Playbook(models.Model):
    slug = models.SlugField(max_length=128, unique=True)
    title = models.CharField(max_length=256)
    # Fault catalog codes this playbook resolves.
    fault_kinds = models.JSONField(default=list, blank=True)
    symptoms = models.JSONField(default=list, blank=True)
    diagnosis_steps = models.JSONField(default=list, blank=True)
    resolution_steps = models.JSONField(default=list, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
