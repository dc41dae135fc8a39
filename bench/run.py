"""`python -m bench run`: serve the generated data set with gunicorn and measure it over HTTP."""

import argparse
import json
import logging
import os
import platform
import random
import subprocess
from collections import defaultdict
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from bench import baseline, cases, driver, report
from bench.generate import dataset_marker_get
from bench.server import ROOT, gunicorn_running
from helpdesk.services import api_token_create

logger = logging.getLogger(__name__)

BENCH_USERNAME = "bench-client"
CASE_SEED = 7
# Requests per concurrent phase, at most; the phase also ends when its time is up.
MAX_CONCURRENT_REQUESTS = 20_000


def machine_describe() -> dict:
    cpu_model = ""
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with Path("/proc/meminfo").open() as meminfo:
        memory_kib = int(meminfo.readline().split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres_version = cursor.fetchone()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu_model": cpu_model,
        "cpu_cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "postgres_version": postgres_version,
        "python_version": platform.python_version(),
        "commit": commit,
    }


def bench_token() -> str:
    get_user_model().objects.get_or_create(
        username=BENCH_USERNAME, defaults={"email": "bench@example.com"}
    )
    return api_token_create(username=BENCH_USERNAME)


def by_endpoint(samples: list[driver.Sample]) -> dict[str, dict]:
    groups = defaultdict(list)
    for sample in samples:
        groups[sample.endpoint].append(sample)
    return {endpoint: driver.latency_summary(group) for endpoint, group in groups.items()}


def by_kind(samples: list[driver.Sample], *, endpoint: str) -> dict[str, dict]:
    groups = defaultdict(list)
    for sample in samples:
        if sample.endpoint == endpoint:
            groups[sample.kind].append(sample)
    return {kind: driver.latency_summary(group) for kind, group in groups.items()}


def single_client_measure(*, base_url: str, token: str, all_cases: list, repeats: int) -> dict:
    result = driver.sequential_run(base_url=base_url, token=token, cases=all_cases, repeats=repeats)
    return {
        "endpoints": by_endpoint(result.samples),
        "search_kinds": by_kind(result.samples, endpoint="search"),
        "overview_kinds": by_kind(result.samples, endpoint="overview"),
        "timeline_kinds": by_kind(result.samples, endpoint="timeline"),
    }


def concurrent_measure(
    *, base_url: str, token: str, all_cases: list, clients: int, duration: float
) -> dict:
    """Load each endpoint alone, then the mix of all three, with `clients` threads."""
    endpoints = {}
    for endpoint in ("search", "overview", "timeline"):
        result = driver.concurrent_run(
            base_url=base_url, token=token, clients=clients,
            cases=[case for case in all_cases if case.endpoint == endpoint],
            duration_seconds=duration / 3, max_requests=MAX_CONCURRENT_REQUESTS,
        )  # fmt: skip
        endpoints[endpoint] = {
            **driver.latency_summary(result.samples),
            "requests_per_second": round(result.requests_per_second, 1),
        }

    mix = driver.concurrent_run(
        base_url=base_url, token=token, cases=all_cases, clients=clients,
        duration_seconds=duration, max_requests=MAX_CONCURRENT_REQUESTS,
    )  # fmt: skip
    return {
        "clients": clients,
        "endpoints": endpoints,
        "mix": {
            **driver.latency_summary(mix.samples),
            "requests_per_second": round(mix.requests_per_second, 1),
            "wall_seconds": round(mix.wall_seconds, 1),
            "by_endpoint": by_endpoint(mix.samples),
        },
    }


def results_write(*, results: dict, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")


def benchmark_run(*, arguments: argparse.Namespace, database_url: str) -> int:
    # The server runs the code in this checkout, whose migrations may be newer than the data set.
    call_command("migrate", interactive=False, verbosity=0)
    marker = dataset_marker_get()
    if marker is None or not marker["finished"]:
        raise SystemExit("No finished data set in this database; run `python -m bench generate`.")

    rng = random.Random(CASE_SEED)
    print("Choosing requests from the data set ...", flush=True)
    sample = cases.sample_customers(rng=rng)
    heavy = cases.heavy_customer_ids()
    search_cases = cases.search_cases(customers=sample, rng=rng)
    customer_cases = cases.customer_cases(customers=sample, heavy=heavy)
    all_cases = search_cases + customer_cases
    token = bench_token()
    results = {
        "machine": machine_describe(),
        "data_set": {**marker, "generated_at": marker["generated_at"].isoformat()},
        "heavy_customers": [{"customer_id": cid, "interactions": n} for cid, n in heavy],
        "server": {"workers": arguments.workers, "threads": arguments.threads},
        "search_kind_count": len({case.kind for case in search_cases}),
    }

    with gunicorn_running(
        database_url=database_url, workers=arguments.workers, threads=arguments.threads
    ) as server:
        print(f"Server at {server.base_url}; one client ...", flush=True)
        results["single_client"] = single_client_measure(
            base_url=server.base_url, token=token, all_cases=all_cases, repeats=arguments.repeats
        )
        print(f"{arguments.concurrency} clients ...", flush=True)
        results["concurrent"] = concurrent_measure(
            base_url=server.base_url, token=token, all_cases=all_cases,
            clients=arguments.concurrency, duration=arguments.duration,
        )  # fmt: skip

    output = Path(arguments.output)
    results["targets"] = report.targets_check(results=results)
    results_write(results=results, output=output)
    if not arguments.skip_baseline:
        print("django-helpdesk style icontains search, one query per kind ...", flush=True)
        results["baseline"] = baseline.baseline_compare(cases=search_cases, repeats=1)
        results_write(results=results, output=output)

    print(report.results_table(results=results))
    print(f"Figures written to {output}")
    return 0
