# ruff: noqa: S608  (SQL names here are constants or come from the PostgreSQL catalog)
"""Drop secondary indexes and constraints before a bulk load and recreate them afterwards.

Building an index once over loaded rows is several times faster than updating it for each row.
The statements that recreate what was dropped are kept in a table in the same transaction as the
drop, so a load that stops half-way leaves them behind and the next run restores them first.
"""

import logging
import time
from dataclasses import dataclass

from django.db import connection, transaction

logger = logging.getLogger(__name__)

STASH_TABLE = "bench_stashed_ddl"
# Unique constraints and indexes are rebuilt before foreign keys, which validate by a join.
PHASE_INDEXES = 1
PHASE_FOREIGN_KEYS = 2

CONSTRAINTS_SQL = """
SELECT c.conname, c.contype, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.conrelid = ANY(%s::regclass[])
  AND c.contype IN ('f', 'u')
  AND NOT (
    c.contype = 'u'
    AND EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
  )
ORDER BY c.conrelid::regclass::text, c.conname
"""

INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(%s::regclass[])
  AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indrelid::regclass::text, i.indexrelid::regclass::text
"""


@dataclass(frozen=True)
class StashedStatement:
    name: str
    table: str
    phase: int
    drop_sql: str
    restore_sql: str


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stash_table_ensure() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STASH_TABLE} ("
            " position serial PRIMARY KEY, name text NOT NULL, table_name text NOT NULL,"
            " phase smallint NOT NULL, restore_sql text NOT NULL)"
        )


def secondary_structures_list(*, tables: list[str]) -> list[StashedStatement]:
    """List the unique constraints, foreign keys and plain indexes of `tables`, primary keys aside.

    A unique constraint that a foreign key depends on stays, because dropping it would fail.
    """
    statements = []
    with connection.cursor() as cursor:
        cursor.execute(CONSTRAINTS_SQL, [tables])
        for name, kind, table, definition in cursor.fetchall():
            phase = PHASE_FOREIGN_KEYS if kind == "f" else PHASE_INDEXES
            statements.append(
                StashedStatement(
                    name=name,
                    table=table,
                    phase=phase,
                    drop_sql=f"ALTER TABLE {table} DROP CONSTRAINT {quote_name(name)}",
                    restore_sql=(
                        f"ALTER TABLE {table} ADD CONSTRAINT {quote_name(name)} {definition}"
                    ),
                )
            )

        cursor.execute(INDEXES_SQL, [tables])
        for name, table, definition in cursor.fetchall():
            statements.append(
                StashedStatement(
                    name=name,
                    table=table,
                    phase=PHASE_INDEXES,
                    drop_sql=f"DROP INDEX {name}",
                    restore_sql=definition,
                )
            )
    return statements


def secondary_structures_drop(*, tables: list[str]) -> int:
    """Drop the secondary indexes and constraints of `tables`, keeping how to recreate them."""
    stash_table_ensure()
    statements = secondary_structures_list(tables=tables)

    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(
                f"INSERT INTO {STASH_TABLE} (name, table_name, phase, restore_sql)"
                " VALUES (%s, %s, %s, %s)",
                [statement.name, statement.table, statement.phase, statement.restore_sql],
            )
            cursor.execute(statement.drop_sql)

    logger.info("Secondary indexes dropped", extra={"count": len(statements)})
    return len(statements)


def secondary_structures_restore(*, report) -> None:
    """Recreate every stashed index and constraint, each in its own transaction.

    `report(name, seconds)` is called after each statement. A failure leaves the remaining
    statements in the stash, so that a later run can finish the job.
    """
    stash_table_ensure()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT position, name, restore_sql FROM {STASH_TABLE} ORDER BY phase, position"
        )
        pending = cursor.fetchall()

    for position, name, restore_sql in pending:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(restore_sql)
            cursor.execute(f"DELETE FROM {STASH_TABLE} WHERE position = %s", [position])
        report(name, time.perf_counter() - started)


def stash_is_empty() -> bool:
    stash_table_ensure()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {STASH_TABLE})")
        return cursor.fetchone()[0]
