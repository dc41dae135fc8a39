"""Forms that read the operator pages' GET parameters."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from telemetry.models import Interaction

TIME_RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "all": None,
}
TIME_RANGE_CHOICES = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("all", "All time"),
]


class TimelineFilterForm(forms.Form):
    """Timeline filters, kept in the URL so that a filtered timeline can be bookmarked or shared."""

    agent = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Interaction.Status.choices]
    )
    range = forms.ChoiceField(required=False, choices=TIME_RANGE_CHOICES, initial="all")
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, agent_names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", "Any agent")] + [(name, name) for name in agent_names]

    def since(self, *, now: datetime | None = None) -> datetime | None:
        """Start of the chosen time range, or None for all time. Call after is_valid()."""
        window = TIME_RANGES.get(self.cleaned_data.get("range") or "all")
        if window is None:
            return None
        return (now or timezone.now()) - window
