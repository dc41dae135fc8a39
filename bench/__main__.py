"""Command line: `python -m bench generate --scale 1.0` and `python -m bench run`.

Both use DATABASE_URL, by default postgres://postgres@127.0.0.1:5432/helpdesk_bench.
"""

import argparse
import logging
import sys

from bench.database import database_ensure, database_url, django_setup


def arguments_parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="generate a data set into PostgreSQL")
    generate.add_argument(
        "--scale", type=float, default=1.0,
        help="size relative to 1,000,000 customers, 3,000,000 trials and 10,000,000 interactions",
    )  # fmt: skip
    generate.add_argument("--seed", type=int, default=20260101, help="random seed (integer)")
    generate.add_argument(
        "--reset", action="store_true", help="empty the customer and telemetry tables first"
    )
    generate.add_argument(
        "--if-missing", action="store_true",
        help="keep a finished data set of the same scale and seed instead of generating again",
    )  # fmt: skip

    run = commands.add_parser("run", help="serve the data set with gunicorn and measure it")
    run.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    run.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    run.add_argument("--concurrency", type=int, default=16, help="clients in the concurrent phase")
    run.add_argument(
        "--duration", type=float, default=30.0,
        help="seconds the concurrent mix runs, at most",
    )  # fmt: skip
    run.add_argument(
        "--repeats", type=int, default=3,
        help="times each single-client request is repeated",
    )  # fmt: skip
    run.add_argument(
        "--output", default="bench/results/latest.json", help="where to write the figures (JSON)"
    )
    run.add_argument(
        "--skip-baseline", action="store_true",
        help="skip timing the icontains search that django-helpdesk uses",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = arguments_parse(argv)
    url = database_url()
    if database_ensure(url=url):
        print(f"Created database {url}")
    django_setup(url=url)
    logging.getLogger().setLevel(logging.WARNING)

    if arguments.command == "generate":
        from bench.generate import dataset_generate

        dataset_generate(
            scale=arguments.scale,
            seed=arguments.seed,
            reset=arguments.reset,
            if_missing=arguments.if_missing,
        )
        return 0

    from bench.run import benchmark_run

    return benchmark_run(arguments=arguments, database_url=url)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
