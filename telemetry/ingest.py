"""Ingest results, returned by every ingest function, and the running ingest counters."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from telemetry.models import IngestCounter


@dataclass
class RejectedItem:
    """An item ingest did not store: its position in the batch and why."""

    index: int
    message: str


@dataclass
class IngestResult:
    """Counts of what one ingest call accepted and rejected, with one error per rejected item."""

    accepted: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    rejected_items: list[RejectedItem] = field(default_factory=list)

    def reject(self, *, index: int, message: str) -> None:
        self.rejected += 1
        self.errors.append(message)
        self.rejected_items.append(RejectedItem(index=index, message=message))


def counters_add(*, counts: Mapping[str, int]) -> None:
    """Add to the named IngestCounter rows in two queries, creating missing rows first."""
    counts = {name: amount for name, amount in counts.items() if amount}
    if not counts:
        return

    IngestCounter.objects.bulk_create(
        [IngestCounter(name=name) for name in counts], ignore_conflicts=True
    )
    IngestCounter.objects.filter(name__in=counts).update(
        value=Case(
            *[When(name=name, then=F("value") + Value(amount)) for name, amount in counts.items()],
            default=F("value"),
            output_field=IntegerField(),
        ),
        updated_at=timezone.now(),
    )
