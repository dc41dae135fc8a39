# ruff: noqa: S608  (SQL names here are constants or Django table names, never input)
"""Generate a help desk data set of a given scale into the real tables.

Scale 1.0 is 1,000,000 customers, 3,000,000 trials and 10,000,000 interactions. Rows go in by
COPY with secondary indexes and foreign keys dropped, which are rebuilt once at the end.
"""

import gc
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bench import interactions, load, schema
from bench.plan import Sizes, customer_id_of, customers_plan, trials_plan
from bench.pools import AGENT_NAMES
from customers.models import Agent, AgentAssignment, Customer, Trial
from telemetry.models import Interaction, LogRecord

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20260101
DATASET_TABLE = "bench_dataset"
LOADED_MODELS = (Customer, Trial, AgentAssignment, Interaction)
Output = Callable[[str], None]


@dataclass
class GenerationReport:
    scale: float
    seed: int
    sizes: Sizes
    assignments: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    skipped: bool = False


class PhaseClock:
    """Times named phases and prints each one's duration as it ends."""

    def __init__(self, *, output: Output, phases: dict[str, float]) -> None:
        self.output = output
        self.phases = phases

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.output(f"{name} ...")
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.phases[name] = round(seconds, 2)
        self.output(f"{name}: {seconds:.1f} s")


def progress_printer(*, output: Output, label: str, total: int) -> Callable[[int], None]:
    """Return a callback that prints progress at each further tenth of `total`."""
    started = time.perf_counter()
    next_mark = [total / 10]

    def report(done: int) -> None:
        if done < next_mark[0] and done < total:
            return
        next_mark[0] = done + total / 10
        rate = done / max(time.perf_counter() - started, 1e-9)
        output(f"  {label}: {done:,} of {total:,} ({rate:,.0f} rows/s)")

    return report


def product_normalizers() -> tuple[Callable[[str], str], Callable[[str], str]]:
    """Return the email and phone normalizers that customer ingest uses."""
    from customers import services

    if hasattr(services, "email_normalize") and hasattr(services, "phone_normalize"):
        return (
            lambda email: services.email_normalize(email=email),
            lambda phone: services.phone_normalize(phone=phone),
        )

    from customers.normalization import normalize_email, normalize_phone

    return normalize_email, normalize_phone


def dataset_marker_get() -> dict | None:
    """Return the marker a generation run left (scale, seed, finished and so on), or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {DATASET_TABLE} (scale double precision NOT NULL,"
            " seed integer NOT NULL, finished boolean NOT NULL, sizes jsonb NOT NULL,"
            " phases jsonb NOT NULL, generated_at timestamptz NOT NULL)"
        )
        cursor.execute(
            f"SELECT scale, seed, finished, sizes, phases, generated_at FROM {DATASET_TABLE}"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    names = ("scale", "seed", "finished", "sizes", "phases", "generated_at")
    marker = dict(zip(names, row, strict=True))
    for name in ("sizes", "phases"):
        if isinstance(marker[name], str):
            marker[name] = json.loads(marker[name])
    return marker


def dataset_marker_set(*, report: GenerationReport, finished: bool) -> None:
    """Record that this database contains a generated data set, finished or still loading."""
    sizes = {
        "customers": report.sizes.customers,
        "trials": report.sizes.trials,
        "interactions": report.sizes.interactions,
        "assignments": report.assignments,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DATASET_TABLE}")
        cursor.execute(
            f"INSERT INTO {DATASET_TABLE} (scale, seed, finished, sizes, phases, generated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                report.scale,
                report.seed,
                finished,
                json.dumps(sizes),
                json.dumps(report.phases),
                timezone.now(),
            ],
        )


def loaded_tables_empty() -> bool:
    return not any(model.objects.exists() for model in LOADED_MODELS)


def tables_reset() -> None:
    """Empty the loaded tables, and through CASCADE every table that refers to them."""
    tables = [model._meta.db_table for model in (*LOADED_MODELS, Agent, LogRecord)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def agents_ensure() -> list[int]:
    """Create the platform's five agents if missing; return their keys in AGENT_NAMES order."""
    pks = []
    for name in AGENT_NAMES:
        agent, _ = Agent.objects.get_or_create(
            name=name, defaults={"status": Agent.Status.RUNNING, "version": "1.4.2"}
        )
        pks.append(agent.pk)
    return pks


def sequences_advance() -> None:
    """Move each loaded table's id sequence past the explicit ids that COPY wrote."""
    with connection.cursor() as cursor:
        for model in LOADED_MODELS:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )


def statistics_refresh() -> None:
    """VACUUM ANALYZE the loaded tables; only ANALYZE inside a transaction, where VACUUM fails."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in LOADED_MODELS:
            cursor.execute(f"{command} {model._meta.db_table}")


def session_tune() -> None:
    """Give index builds more memory and skip waiting for each commit's WAL flush."""
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET synchronous_commit = off")


def dataset_generate(
    *,
    scale: float,
    seed: int = DEFAULT_SEED,
    reset: bool = False,
    if_missing: bool = False,
    migrate: bool = True,
    output: Output = print,
) -> GenerationReport:
    """Generate the data set for `scale` into the default database.

    With `if_missing`, a finished data set of the same scale and seed is kept, and any other
    data set a run left (another scale, or a run that stopped half-way) is replaced. Tables that
    hold rows no run generated are never replaced unless `reset` is passed, so that a mistyped
    DATABASE_URL cannot wipe real data.
    """
    sizes = Sizes.from_scale(scale=scale)
    report = GenerationReport(scale=scale, seed=seed, sizes=sizes)
    clock = PhaseClock(output=output, phases=report.phases)

    if migrate:
        with clock.phase("migrate"):
            call_command("migrate", interactive=False, verbosity=0)

    marker = dataset_marker_get()
    same_data_set = marker is not None and (marker["scale"], marker["seed"]) == (scale, seed)
    if if_missing and same_data_set and marker["finished"]:
        output(f"The database already holds the scale {scale} data set; keeping it.")
        report.skipped = True
        return report
    if if_missing and marker:
        output(f"Replacing the data set left by an earlier run (scale {marker['scale']}).")
        reset = True
    if not reset and not loaded_tables_empty():
        raise SystemExit(
            "The database already contains customers, trials or interactions; pass --reset to"
            " replace them with generated ones."
        )

    logger.info("Data set generation started", extra={"scale": scale, "seed": seed})
    dataset_marker_set(report=report, finished=False)
    gc.disable()
    try:
        _generate(sizes=sizes, seed=seed, reset=reset, clock=clock, output=output, report=report)
    finally:
        gc.enable()
    dataset_marker_set(report=report, finished=True)
    logger.info("Data set generation finished", extra={"scale": scale, "phases": report.phases})
    return report


def _generate(
    *,
    sizes: Sizes,
    seed: int,
    reset: bool,
    clock: PhaseClock,
    output: Output,
    report: GenerationReport,
) -> None:
    rng = random.Random(seed)
    now = time.time()
    session_tune()
    if reset:
        with clock.phase("reset"):
            tables_reset()

    with clock.phase("drop secondary indexes"):
        count = schema.secondary_structures_drop(
            tables=[model._meta.db_table for model in LOADED_MODELS]
        )
        output(f"  {count} indexes and constraints dropped")

    with clock.phase("plan customers and trials"):
        agent_pks = agents_ensure()
        customers = customers_plan(sizes=sizes, rng=rng, now=now)
        customer_ids = [customer_id_of(index) for index in range(sizes.customers)]
        trials = trials_plan(sizes=sizes, customers=customers, rng=rng, now=now)

    with clock.phase("copy interactions"):
        counters = interactions.interactions_copy(
            sizes=sizes, customers=customers, trials=trials, customer_ids=customer_ids,
            agent_pks=agent_pks, rng=rng,
            now=now, progress=progress_printer(output=output, label="interactions",
                                               total=sizes.interactions),
        )  # fmt: skip

    with clock.phase("copy trials"):
        load.trials_copy(
            sizes=sizes, trials=trials, rng=rng,
            progress=progress_printer(output=output, label="trials", total=sizes.trials),
        )  # fmt: skip

    with clock.phase("copy customers"):
        email_normalize, phone_normalize = product_normalizers()
        load.customers_copy(
            sizes=sizes, customers=customers, customer_ids=customer_ids, rng=rng, now=now,
            email_normalize=email_normalize, phone_normalize=phone_normalize,
            progress=progress_printer(output=output, label="customers", total=sizes.customers),
        )  # fmt: skip

    with clock.phase("copy agent assignments"):
        report.assignments = load.assignments_copy(counters=counters, agent_pks=agent_pks, rng=rng)
        output(f"  {report.assignments:,} agent assignments")

    with clock.phase("rebuild indexes and constraints"):
        schema.secondary_structures_restore(
            report=lambda name, seconds: output(f"  {name}: {seconds:.1f} s")
        )
        sequences_advance()

    with clock.phase("vacuum and analyze"):
        statistics_refresh()

    report.phases["total"] = round(sum(report.phases.values()), 2)
    output(f"total: {report.phases['total']:.1f} s")
