"""Forms that read the Issue Detective pages' GET parameters."""

from datetime import UTC, datetime, timedelta

from django import forms

from customers.forms import DateTimeLocalInput
from diagnostics.system import PeriodError, Periods, periods_resolve

WINDOWS = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "3h": timedelta(hours=3),
    "6h": timedelta(hours=6),
}
WINDOW_CHOICES = [
    ("15m", "15 minutes"),
    ("1h", "1 hour"),
    ("3h", "3 hours"),
    ("6h", "6 hours"),
]
BASELINE_HOUR_BEFORE = "hour_before"
BASELINE_DAY_BEFORE = "day_before"
BASELINE_CHOICES = [
    (BASELINE_HOUR_BEFORE, "The hour before the window"),
    (BASELINE_DAY_BEFORE, "The same window a day earlier"),
]


class SystemDiagnosisForm(forms.Form):
    """The window to diagnose and the fault-free period to compare it with.

    `until` carries no offset: Django reads it in the operator's time zone, which the operator
    time zone middleware activates. Empty, the window ends now.
    """

    window = forms.ChoiceField(choices=WINDOW_CHOICES, initial="15m", label="Window")
    until = forms.DateTimeField(required=False, label="Ending at", widget=DateTimeLocalInput())
    baseline = forms.ChoiceField(
        choices=BASELINE_CHOICES, initial=BASELINE_HOUR_BEFORE, label="Compared with"
    )

    def periods(self, *, now: datetime) -> Periods | None:
        """Return the checked periods, or None after adding the error to the form.

        The arithmetic is in UTC: in the operator's zone a daylight saving change would make
        "an hour before" an hour of the clock rather than of time.
        """
        try:
            until = (self.cleaned_data.get("until") or now).astimezone(UTC)
            since = until - WINDOWS[self.cleaned_data["window"]]
            baseline_since = baseline_until = None
            if self.cleaned_data["baseline"] == BASELINE_DAY_BEFORE:
                baseline_since = since - timedelta(days=1)
                baseline_until = until - timedelta(days=1)
            return periods_resolve(
                now=now,
                since=since,
                until=until,
                baseline_since=baseline_since,
                baseline_until=baseline_until,
            )
        except (PeriodError, OverflowError) as error:
            self.add_error("until", period_error_text(error))
            return None


def period_error_text(error: Exception) -> str:
    if isinstance(error, PeriodError):
        return str(error)
    return "This time is too close to the start of the calendar: give a time after 1970."
