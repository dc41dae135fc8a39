"""HTTP load: one client in sequence, or many client threads for a bounded time.

Every client is a thread with its own requests.Session (keep-alive, like a browser or script),
and only ever talks to the loopback server the benchmark started.
"""

import itertools
import logging
import random
import statistics
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import requests

from bench.cases import Case

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Sample:
    endpoint: str
    kind: str
    seconds: float
    status: int


@dataclass(frozen=True)
class LoadResult:
    samples: list[Sample]
    wall_seconds: float

    @property
    def requests_per_second(self) -> float:
        return len(self.samples) / self.wall_seconds if self.wall_seconds else 0.0


def request_time(*, session: requests.Session, base_url: str, token: str, case: Case) -> Sample:
    started = time.perf_counter()
    try:
        response = session.get(
            base_url + case.path,
            params=case.params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        status = response.status_code
        response.content  # noqa: B018  (the body must arrive before the clock stops)
    except requests.RequestException as error:
        logger.warning("Benchmark request failed", extra={"path": case.path, "error": str(error)})
        status = 0
    return Sample(case.endpoint, case.kind, time.perf_counter() - started, status)


def sequential_run(*, base_url: str, token: str, cases: Iterable[Case], repeats: int) -> LoadResult:
    """Send each case `repeats` times from one client, after one unrecorded warm-up pass."""
    cases = list(cases)
    samples = []
    started = time.perf_counter()
    with requests.Session() as session:
        for case in cases:
            request_time(session=session, base_url=base_url, token=token, case=case)
        for _ in range(repeats):
            for case in cases:
                samples.append(
                    request_time(session=session, base_url=base_url, token=token, case=case)
                )
    return LoadResult(samples=samples, wall_seconds=time.perf_counter() - started)


def concurrent_run(
    *,
    base_url: str,
    token: str,
    cases: list[Case],
    clients: int,
    duration_seconds: float,
    max_requests: int,
    seed: int = 1,
) -> LoadResult:
    """Run `clients` threads over the cases in shuffled order until time or requests run out."""
    order = list(cases)
    random.Random(seed).shuffle(order)
    next_case = itertools.cycle(order).__next__
    lock = threading.Lock()
    sent = itertools.count()
    results: list[list[Sample]] = [[] for _ in range(clients)]
    deadline = time.perf_counter() + duration_seconds

    def client(position: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                with lock:
                    if next(sent) >= max_requests:
                        return
                    case = next_case()
                sample = request_time(session=session, base_url=base_url, token=token, case=case)
                results[position].append(sample)

    threads = [threading.Thread(target=client, args=(position,)) for position in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall_seconds = time.perf_counter() - started
    return LoadResult(samples=[s for batch in results for s in batch], wall_seconds=wall_seconds)


def latency_summary(samples: list[Sample]) -> dict[str, float | int]:
    """Return p50, p95, p99 and max in milliseconds, with request and error counts."""
    seconds = sorted(sample.seconds for sample in samples)
    errors = sum(1 for sample in samples if sample.status != 200)
    if not seconds:
        return {"requests": 0, "errors": 0}
    if len(seconds) == 1:
        cuts = [seconds[0]] * 99
    else:
        cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "requests": len(seconds),
        "errors": errors,
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(seconds[-1] * 1000, 1),
    }
