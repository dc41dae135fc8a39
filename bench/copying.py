"""COPY into the real tables, with explicit primary keys and model defaults for unfilled columns.

Rows carry explicit primary keys (index + 1), so that interactions can point at trials and
customers before those are written. Columns a writer does not fill get the model field's default,
so a field added to a model later does not break the load.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from django.db import connection
from django.db.models import Model

UTC = dt.UTC
# Rows drawn per batch, and how often progress is reported.
CHUNK = 50_000

Progress = Callable[[int], None]


def moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, UTC)


def copy_statement(*, model: type[Model], columns: Sequence[str]) -> tuple[str, tuple]:
    """Build a COPY statement for `columns` plus every other concrete column, with its default.

    Return the statement and the values to append to each row for the other columns.
    """
    filled = set(columns)
    extra_columns = []
    extra_values = []
    for field in model._meta.concrete_fields:
        if field.column in filled:
            continue
        if field.has_default():
            value = field.get_db_prep_save(field.get_default(), connection)
        elif field.null:
            value = None
        else:
            raise ValueError(
                f"Column {model._meta.db_table}.{field.column} has no default; "
                "add it to the bench generator's rows."
            )
        extra_columns.append(field.column)
        extra_values.append(value)

    column_list = ", ".join(f'"{column}"' for column in (*columns, *extra_columns))
    return f"COPY {model._meta.db_table} ({column_list}) FROM STDIN", tuple(extra_values)


def rows_copy(
    *,
    model: type[Model],
    columns: Sequence[str],
    batches: Iterable[list[tuple]],
    progress: Progress,
) -> int:
    """COPY each batch of rows into the model's table; return how many rows were written."""
    statement, extras = copy_statement(model=model, columns=columns)
    written = 0

    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        write_row = copy.write_row
        for batch in batches:
            if extras:
                batch = [(*row, *extras) for row in batch]
            for row in batch:
                write_row(row)
            written += len(batch)
            progress(written)
    return written
