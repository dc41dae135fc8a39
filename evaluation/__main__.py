"""Command line: `python -m evaluation`, run by `make eval`.

Runs the scenario suite (and writes diagnostics/calibration.json from its fit half), the
heavy-customer latency measurement and the Train Ticket fault windows on a throwaway database:
DATABASE_URL when set, else a new SQLite file in a temporary folder. Prints the figures beside
their targets and writes docs/evaluation.md.
"""

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

from evaluation.database import database_prepare, workdir_create

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARCHIVE = (
    ROOT.parent / "shared" / "data" / "nezha-train-ticket" / "nezha-tt-2023-01-29.tar.gz"
)


def arguments_parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__)
    parser.add_argument("--seed", type=int, default=20260101, help="random seed (integer)")
    parser.add_argument(
        "--per-kind",
        type=int,
        default=10,
        help="scenarios per fault kind; half fit the calibration, half are measured",
    )
    parser.add_argument(
        "--interactions",
        type=int,
        default=100_000,
        help="interactions of the heavy customer whose diagnosis is timed",
    )
    parser.add_argument("--latency-runs", type=int, default=20, help="timed diagnoses")
    parser.add_argument(
        "--archive",
        type=Path,
        default=DEFAULT_ARCHIVE,
        help="the Nezha Train Ticket archive (nezha-tt-2023-01-29.tar.gz)",
    )
    parser.add_argument("--skip-train-ticket", action="store_true", help="skip the real data")
    parser.add_argument("--skip-latency", action="store_true", help="skip the latency run")
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="measure without writing diagnostics/calibration.json",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=ROOT / "docs" / "evaluation.md",
        help="where to write the report (Markdown)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = arguments_parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    workdir = workdir_create()
    try:
        database_url = database_prepare(workdir=workdir)
        return evaluation_run(arguments=arguments, workdir=workdir, database_url=database_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def evaluation_run(*, arguments: argparse.Namespace, workdir: Path, database_url: str) -> int:
    from evaluation.latency import latency_run
    from evaluation.report import report_print, report_write
    from evaluation.suite import suite_run
    from evaluation.train_ticket import train_ticket_run

    started = time.perf_counter()
    print(f"Scenario suite: {arguments.per_kind} scenarios per kind ...", flush=True)
    suite = suite_run(
        seed=arguments.seed,
        per_kind=arguments.per_kind,
        workdir=workdir,
        write_calibration=not arguments.no_calibration,
    )
    print(
        f"  kind at 1 {suite.test['kind_at_1']:.1%}, component at 1 "
        f"{suite.test['component_at_1']:.1%}, ECE {suite.test['ece']:.3f}",
        flush=True,
    )
    latency = None
    if not arguments.skip_latency:
        print(
            f"Latency: diagnosing a customer with {arguments.interactions:,} interactions ...",
            flush=True,
        )
        latency = latency_run(
            interactions=arguments.interactions, runs=arguments.latency_runs, seed=arguments.seed
        )
        print(f"  p95 {latency['p95_ms']:.0f} ms", flush=True)
    train_ticket = None
    if not arguments.skip_train_ticket:
        print(
            "Train Ticket: sending 28 fault windows to /v1/traces, /v1/logs, /v1/metrics ...",
            flush=True,
        )
        train_ticket = train_ticket_run(archive=arguments.archive, workdir=workdir)

    figures = {
        "suite": suite,
        "latency": latency,
        "train_ticket": train_ticket,
        "seconds": time.perf_counter() - started,
        "database": database_url.split("://", 1)[0],
        "arguments": arguments,
    }
    report_print(figures=figures)
    report_write(figures=figures, path=arguments.report)
    print(f"Report written to {arguments.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
