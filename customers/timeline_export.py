"""Export of a customer's filtered timeline as one JSON document, streamed as it is read.

The export reads the interactions and their log records with two queries in the same order and
merges them while writing. Its query count does not grow with the number of entries, and rows are
fetched in chunks, so memory does not grow with them either. Bodies, errors and logs are masked
as on the timeline page and in the API.
"""

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from customers.models import Customer
from customers.payloads import interaction_payload
from customers.selectors import timeline_entry_build, timeline_interactions_filter
from telemetry.models import LogRecord

logger = logging.getLogger(__name__)

EXPORT_MAX_ENTRIES = 10_000
EXPORT_CHUNK_SIZE = 500


def timeline_export_filename(*, customer: Customer, now: datetime) -> str:
    """Name the download after the customer, with characters unsafe in a header replaced."""
    safe_id = re.sub(r"[^A-Za-z0-9._-]", "_", customer.customer_id)
    return f"{safe_id}-timeline-{now:%Y%m%dT%H%M%SZ}.json"


def timeline_export_chunks(
    *,
    customer: Customer,
    selection: dict[str, Any],
    filters: dict[str, Any],
    now: datetime,
    limit: int = EXPORT_MAX_ENTRIES,
) -> Iterator[str]:
    """Yield the export document in pieces: a header, one piece per interaction, a footer.

    selection contains the keyword arguments of timeline_interactions_filter. filters is written
    into the document as given, so that a reader knows what the export contains. When more than
    limit interactions match, the newest limit are written and the footer states it.
    """
    interactions = (
        timeline_interactions_filter(customer=customer, **selection)
        .select_related("agent", "trial")
        .order_by("-started_at", "-id")
    )
    logs = export_logs_iterator(interactions=interactions, limit=limit)

    header = {"customer_id": customer.customer_id, "exported_at": now, "filters": filters}
    yield json_text(header)[:-1] + ', "interactions": ['

    count = 0
    truncated = False
    for interaction in interactions[: limit + 1].iterator(chunk_size=EXPORT_CHUNK_SIZE):
        if count == limit:
            truncated = True
            break
        interaction.log_list = logs.take(interaction_pk=interaction.pk)
        entry = timeline_entry_build(interaction=interaction)
        separator = "," if count else ""
        yield f"{separator}\n{json_text(interaction_payload(entry=entry))}"
        count += 1

    footer = {"count": count, "limit": limit, "truncated": truncated, "note": None}
    if truncated:
        footer["note"] = (
            f"More than {limit} interactions match these filters; this export holds the newest "
            f"{limit}. Narrow the time range to export the older ones."
        )
        logger.warning(
            "Timeline export truncated",
            extra={"customer_id": customer.customer_id, "limit": limit},
        )
    yield "\n], " + json_text(footer)[1:]


def json_text(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


class ExportLogs:
    """Log records ordered like the exported interactions, handed out one interaction at a time."""

    def __init__(self, records: Iterator[LogRecord]):
        self.records = records
        self.pending: LogRecord | None = next(self.records, None)

    def take(self, *, interaction_pk: int) -> list[LogRecord]:
        """Return the log records of one interaction. Interactions must come in export order."""
        records = []
        while self.pending is not None and self.pending.interaction_id == interaction_pk:
            records.append(self.pending)
            self.pending = next(self.records, None)
        return records


def export_logs_iterator(*, interactions, limit: int) -> ExportLogs:
    """Read the log records of the first limit interactions, in the interactions' order.

    The records are ordered on their interaction's (started_at, id), newest first, like the
    interactions, then oldest record first within an interaction.
    """
    exported = interactions.values("pk")[:limit]
    records = (
        LogRecord.objects.filter(interaction__in=exported)
        .order_by("-interaction__started_at", "-interaction_id", "timestamp", "id")
        .only("interaction_id", "body")
        .iterator(chunk_size=EXPORT_CHUNK_SIZE)
    )
    return ExportLogs(records)
