"""Forms that read the operator pages' GET parameters."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from telemetry.models import Interaction

CUSTOM_RANGE = "custom"
TIME_RANGES = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
TIME_RANGE_CHOICES = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("all", "All time"),
    (CUSTOM_RANGE, "Custom range"),
]
# Value format of <input type="datetime-local">, the only one browsers send.
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# Parameters that select entries; the cursor only pages through them.
FILTER_FIELDS = ("agent", "operation", "status", "range", "since", "until")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_LOCAL_FORMAT, **kwargs)


class TimelineFilterForm(forms.Form):
    """Timeline filters, kept in the URL so that a filtered timeline can be bookmarked or shared.

    The custom range's since and until carry no offset. Django reads them in the active time zone,
    which the operator time zone middleware sets, so "10:00" means 10:00 where the operator is.
    """

    agent = forms.ChoiceField(required=False)
    operation = forms.CharField(required=False, max_length=256)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Interaction.Status.choices]
    )
    range = forms.ChoiceField(required=False, choices=TIME_RANGE_CHOICES, initial="all")
    since = forms.DateTimeField(required=False, label="From", widget=DateTimeLocalInput())
    until = forms.DateTimeField(required=False, label="To", widget=DateTimeLocalInput())
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, agent_names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", "Any agent")] + [(name, name) for name in agent_names]

    @classmethod
    def from_query(cls, query, *, agent_names: list[str]) -> "TimelineFilterForm":
        """Bind the form to a query string, filling in the range it implies when it has none.

        A query with From or To but no range is a custom range, as API-style links write it.
        Any other query without a range shows all time.
        """
        data = query.copy()
        if not data.get("range"):
            custom = data.get("since") or data.get("until")
            data["range"] = CUSTOM_RANGE if custom else "all"
        return cls(data, agent_names=agent_names)

    def clean(self):
        cleaned = super().clean()
        since = cleaned.get("since")
        until = cleaned.get("until")
        custom = cleaned.get("range") == CUSTOM_RANGE
        if custom and since is not None and until is not None and since >= until:
            raise forms.ValidationError(
                "The custom range's From must be before its To; swap or correct the times."
            )
        return cleaned

    @property
    def custom_range(self) -> bool:
        return self.cleaned_data.get("range") == CUSTOM_RANGE

    def time_bounds(
        self, *, now: datetime | None = None
    ) -> tuple[datetime | None, datetime | None]:
        """Return (since, until) of the chosen range, None for an open end. Needs is_valid()."""
        if self.custom_range:
            return self.cleaned_data.get("since"), self.cleaned_data.get("until")

        window = TIME_RANGES.get(self.cleaned_data.get("range") or "all")
        if window is None:
            return None, None
        return (now or timezone.now()) - window, None

    def selection(self, *, now: datetime | None = None) -> dict:
        """Keyword arguments of the timeline selectors for these filters. Call after is_valid()."""
        since, until = self.time_bounds(now=now)
        return {
            "agent": self.cleaned_data.get("agent", ""),
            "operation": self.cleaned_data.get("operation", "").strip(),
            "status": self.cleaned_data.get("status", ""),
            "since": since,
            "until": until,
        }
