import logging
import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand

from demo_platform.services import OPERATOR_PASSWORD, OPERATOR_USERNAME, demo_world_load
from demo_platform.world import DEFAULT_CUSTOMER_COUNT, DEFAULT_SEED

# Ingest logs one line per item; a load sends thousands, so below verbosity 2 only warnings show.
ITEM_LOGGERS = (
    "customers.services",
    "telemetry.services",
    "telemetry.metric_ingest",
    "telemetry.alert_ingest",
    "telemetry.log_templates",
    "demo_platform.services",
)


@contextmanager
def item_logs_quiet(enabled: bool):
    loggers = [logging.getLogger(name) for name in ITEM_LOGGERS]
    levels = [item_logger.level for item_logger in loggers]
    if enabled:
        for item_logger in loggers:
            item_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for item_logger, level in zip(loggers, levels, strict=True):
            item_logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Load the demo world (customers, trials, agent history) into the database through the "
        "telemetry ingest services, and create the demo operator. Does nothing when loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=DEFAULT_CUSTOMER_COUNT,
            help="Customers in the world; must match the demo platform's --customers.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="Seed of the world; must match the demo platform's --seed.",
        )

    def handle(self, *args, customers: int, seed: int, verbosity: int, **options):
        began = time.monotonic()
        with item_logs_quiet(verbosity < 2):
            result = demo_world_load(seed=seed, customer_count=customers)
        seconds = time.monotonic() - began

        if not result.loaded:
            self.stdout.write(f"Demo world already loaded ({seconds:.2f} s); nothing to do.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded the demo world in {seconds:.1f} s: {result.customers} customers, "
                    f"{result.trials} trials, {result.spans} spans, {result.log_records} log "
                    f"records, {result.events} events, {result.metric_points} metric points, "
                    f"{result.alerts} alerts."
                )
            )
        if result.rejected:
            self.stderr.write(f"Ingest rejected {result.rejected} items; see the log.")
        if result.operator_created:
            self.stdout.write(f"Created the demo login {OPERATOR_USERNAME} / {OPERATOR_PASSWORD}.")
