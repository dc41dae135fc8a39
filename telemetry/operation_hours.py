"""The hourly rollup of a customer's calls per agent and operation (OperationHour).

The Issue Detective reads a day of a customer's calls as whole hours from the rollup and the raw
rows of the partial hours at both ends, so its cost stops growing with the number of calls.
Every row enters the rollup once, added to the counts of its hour, and is marked
Interaction.rolled_up in the same transaction. Trace ingest stores calls marked and adds them at
once, whenever they started. Rows written past ingest, such as bulk inserts, are claimed on read:
an UPDATE marks them and returns them, and they are added the way ingest adds a batch.

Because every change only adds, concurrent ingest batches and claims need no coordination: the
UPDATE locks the rows it marks, so two claims never count the same call.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import connection, transaction

from customers.models import Customer
from customers.trend import hour_of
from telemetry.models import Interaction, OperationHour

logger = logging.getLogger(__name__)

HOUR = dt.timedelta(hours=1)
PROBLEM_STATUSES = (Interaction.Status.FAILED, Interaction.Status.TIMEOUT)
# Columns of the upsert: the conflict key first, then the counts it adds up.
KEY_COLUMNS = ("customer_id", "hour", "agent_id", "operation")
SUMMED_FIELDS = ("calls", "failures", "timeouts", "successes", "success_duration_ms")
EARLIEST_FIELDS = ("first_problem_at",)
LATEST_FIELDS = ("max_retries", "last_problem_at", "last_success_at")
# Interaction columns that adding a call to its hour reads.
CALL_FIELDS = (
    "customer",
    "agent",
    "operation",
    "started_at",
    "status",
    "duration_ms",
    "retry_count",
)


def earliest(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    return min((moment for moment in (first, second) if moment is not None), default=None)


def latest(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    return max((moment for moment in (first, second) if moment is not None), default=None)


def hour_ceil(moment: dt.datetime) -> dt.datetime:
    floor = hour_of(moment)
    return floor if floor == moment else floor + HOUR


def operation_hours_claim(
    *, customer: Customer, start: dt.datetime, end: dt.datetime | None = None
) -> int:
    """Add the customer's calls from `start` to `end` (no end when None) that are not in the
    rollup yet, and return how many were added.

    Reads call this for the hours they use. Bulk loaders that bypass trace ingest may call it
    for the hours they filled, so that the first read does not pay for it.
    """
    with transaction.atomic():
        calls = calls_claim(customer=customer, start=start, end=end)
        operation_hours_record(interactions=calls)

    logger.info(
        "Calls added to operation hours",
        extra={"customer_id": customer.customer_id, "calls": len(calls)},
    )
    return len(calls)


def calls_claim(
    *, customer: Customer, start: dt.datetime, end: dt.datetime | None
) -> list[Interaction]:
    """Mark the customer's calls in the range that are not rolled up, and return them.

    One UPDATE ... RETURNING (SQLite 3.35 and later, PostgreSQL), so that a row committed while
    the claim runs is either marked and returned or left for the next claim.
    """
    quote = connection.ops.quote_name
    meta = Interaction._meta
    rolled_up = quote(meta.get_field("rolled_up").column)
    started_at = quote(meta.get_field("started_at").column)
    conditions = [
        f"{quote(meta.get_field('customer').column)} = %s",
        f"{rolled_up} = %s",
        f"{started_at} >= %s",
    ]
    params = [True, customer.pk, False, start]
    if end is not None:
        conditions.append(f"{started_at} < %s")
        params.append(end)
    returned = ", ".join(quote(meta.get_field(name).column) for name in ("id", *CALL_FIELDS))

    # Every name comes from the model's metadata and every value is a parameter.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {rolled_up} = %s "  # noqa: S608
        f"WHERE {' AND '.join(conditions)} RETURNING {returned}"
    )
    # raw() adapts the parameters and applies the fields' converters, which turn SQLite's
    # datetime text into datetimes.
    return list(Interaction.objects.raw(sql, params))


def operation_hours_record(*, interactions: Iterable[Interaction]) -> None:
    """Add newly stored interactions to their customers' rollup hours.

    One upsert statement per batch of hours, which adds to the stored counts. Rows are sent in
    key order, so that concurrent batches lock shared rows in the same order on PostgreSQL.
    """
    hours = hours_of(interactions=interactions)
    if not hours:
        return

    fields = [OperationHour._meta.get_field(name) for name in upsert_columns()]
    rows = [hours[key] for key in sorted(hours)]
    batch_size = max(1, connection.ops.bulk_batch_size(fields, rows))
    with connection.cursor() as cursor:
        for first in range(0, len(rows), batch_size):
            batch = rows[first : first + batch_size]
            params = [
                field.get_db_prep_save(getattr(row, field.attname), connection)
                for row in batch
                for field in fields
            ]
            cursor.execute(upsert_sql(rows=len(batch), fields=fields), params)


def hours_of(*, interactions: Iterable[Interaction]) -> dict[tuple, OperationHour]:
    """Return the interactions' counts per customer, hour, agent and operation.

    Interactions without a customer are left out, because the detective reads per customer.
    """
    hours: dict[tuple, OperationHour] = {}
    for call in interactions:
        if call.customer_id is None:
            continue
        key = (call.customer_id, hour_of(call.started_at), call.agent_id, call.operation)
        if key not in hours:
            hours[key] = OperationHour(
                customer_id=key[0], hour=key[1], agent_id=key[2], operation=key[3]
            )
        call_add(hour=hours[key], call=call)
    return hours


def call_add(*, hour: OperationHour, call: Interaction) -> None:
    hour.calls += 1
    hour.max_retries = max(hour.max_retries, call.retry_count)
    if call.status in PROBLEM_STATUSES:
        hour.failures += call.status == Interaction.Status.FAILED
        hour.timeouts += call.status == Interaction.Status.TIMEOUT
        hour.first_problem_at = earliest(hour.first_problem_at, call.started_at)
        hour.last_problem_at = latest(hour.last_problem_at, call.started_at)
    elif call.status == Interaction.Status.SUCCESS:
        hour.successes += 1
        hour.success_duration_ms += call.duration_ms
        hour.last_success_at = latest(hour.last_success_at, call.started_at)


def upsert_columns() -> tuple[str, ...]:
    return (*KEY_COLUMNS, *SUMMED_FIELDS, *EARLIEST_FIELDS, *LATEST_FIELDS)


def upsert_sql(*, rows: int, fields: list) -> str:
    """Return INSERT ... ON CONFLICT DO UPDATE that adds `rows` rows to the stored counts.

    Django's bulk_create can only overwrite on conflict, not add. SQLite (3.24 and later) and
    PostgreSQL both accept this statement.
    """
    quote = connection.ops.quote_name
    table = quote(OperationHour._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    key = ", ".join(quote(OperationHour._meta.get_field(name).column) for name in KEY_COLUMNS)

    assignments = []
    for name in SUMMED_FIELDS:
        column = quote(name)
        assignments.append(f"{column} = {table}.{column} + excluded.{column}")
    for name in EARLIEST_FIELDS:
        column = quote(name)
        assignments.append(
            f"{column} = CASE WHEN {table}.{column} IS NULL OR excluded.{column} < "
            f"{table}.{column} THEN excluded.{column} ELSE {table}.{column} END"
        )
    for name in LATEST_FIELDS:
        column = quote(name)
        assignments.append(
            f"{column} = CASE WHEN {table}.{column} IS NULL OR excluded.{column} > "
            f"{table}.{column} THEN excluded.{column} ELSE {table}.{column} END"
        )
    # Every name comes from the model's metadata and every value is a parameter.
    return (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)} "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(assignments)}"
    )
