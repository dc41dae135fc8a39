"""A gunicorn server on loopback, configured as in production, for the length of a benchmark."""

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20
BENCH_REDIS_URL = "redis://127.0.0.1:6379/7"


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    log_path: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_environment(*, database_url: str) -> dict[str, str]:
    """Build the production-like environment: DEBUG off, Redis cache, persistent connections."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", BENCH_REDIS_URL),
    }


@contextmanager
def gunicorn_running(*, database_url: str, workers: int, threads: int) -> Iterator[Server]:
    """Start gunicorn on a free loopback port, wait for /healthz, and stop it on exit."""
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"helpdesk-bench-gunicorn-{port}.log"
    command = [
        sys.executable, "-m", "gunicorn", "helpdesk.wsgi", "--bind", f"{HOST}:{port}",
        "--workers", str(workers), "--threads", str(threads), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_environment(database_url=database_url),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    logger.info("Benchmark server started", extra={"pid": process.pid, "port": port})
    server = Server(base_url=f"http://{HOST}:{port}", pid=process.pid, log_path=log_path)

    try:
        health_wait(server=server, process=process)
        yield server
    finally:
        process_stop(process=process)
        logger.info("Benchmark server stopped", extra={"pid": process.pid})

    # The log is kept only when something failed, for reading afterwards.
    log_path.unlink(missing_ok=True)


def health_wait(*, server: Server, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with status {process.returncode}; see {server.log_path}"
            )
        try:
            if requests.get(f"{server.base_url}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            # Workers still importing the application refuse or stall connections.
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"gunicorn did not respond to /healthz within {STARTUP_TIMEOUT_SECONDS} s; "
        f"see {server.log_path}"
    )


def process_stop(*, process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        logger.warning("gunicorn ignored SIGTERM; killing it", extra={"pid": process.pid})
        process.kill()
        process.wait()
