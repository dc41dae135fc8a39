"""Reads of ingest state."""

from collections.abc import Iterable

from telemetry.models import IngestCounter


def ingest_counters_get(*, names: Iterable[str]) -> dict[str, int]:
    """Return the current value of each named counter, zero for a counter never written."""
    names = list(names)
    values = dict(IngestCounter.objects.filter(name__in=names).values_list("name", "value"))
    return {name: values.get(name, 0) for name in names}
