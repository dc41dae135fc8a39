"""Serve the demo: load the demo world, start the demo platform and gunicorn, stop both on exit.

`make run` calls `python -m demo_platform.launcher` after migrating. PORT (default 8000) sets
the help desk's port and PLATFORM_PORT (default 8100) the demo platform's; both listen on
127.0.0.1 only. Ctrl-C or SIGTERM stops both children. When the help desk exits, the demo stops.
When only the platform exits, the help desk keeps serving, so operators can see quick actions
fail with a clear message, and the platform is restarted a few times with growing delays.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

logger = logging.getLogger("demo_platform.launcher")

ROOT = Path(__file__).resolve().parent.parent
# Child output goes to files so the terminal keeps the address and login in view.
LOG_DIR = ROOT / ".demo"
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
# Delays in seconds before each restart of a platform that exited. After the last, it stays down.
PLATFORM_RESTART_DELAYS = (1.0, 5.0, 15.0)
# A platform that ran this long before exiting was not crash-looping, so its restarts start over.
PLATFORM_STABLE_SECONDS = 120.0
WATCH_INTERVAL_SECONDS = 0.5
INGEST_TOKEN_DEFAULT = "demo-ingest-token"  # noqa: S105 - the demo's documented default
CONTROL_TOKEN_DEFAULT = "demo-platform-token"  # noqa: S105 - the demo's documented default


def child_environment(*, platform_url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PLATFORM_API_URL"] = platform_url
    environment.setdefault("PLATFORM_API_TOKEN", CONTROL_TOKEN_DEFAULT)
    return environment


def demo_load(environment: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "load_demo"], cwd=ROOT, env=environment, check=True
    )


@dataclass
class Children:
    """The launcher's child processes. platform is None while the platform is down."""

    web: subprocess.Popen
    platform: subprocess.Popen | None

    def running(self) -> list[subprocess.Popen]:
        return [process for process in (self.web, self.platform) if process is not None]


def web_start(*, port: int, environment: dict[str, str]) -> subprocess.Popen:
    """Start gunicorn in its own session, so that Ctrl-C reaches the launcher only."""
    command = [
        sys.executable, "-m", "gunicorn", "helpdesk.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", os.environ.get("WEB_WORKERS", "2"),
        "--threads", os.environ.get("WEB_THREADS", "4"),
        "--access-logfile", "-",
        "--no-control-socket",
    ]  # fmt: skip
    return child_start(command=command, log_name="web.log", environment=environment)


def platform_start(
    *, port: int, platform_port: int, environment: dict[str, str]
) -> subprocess.Popen:
    """Start the demo platform in its own session, exporting to the help desk on `port`."""
    ingest_token = os.environ.get("HELPDESK_INGEST_TOKENS", INGEST_TOKEN_DEFAULT).split(",")[0]
    command = [
        sys.executable, "-m", "demo_platform",
        "--port", str(platform_port),
        "--helpdesk-url", f"http://127.0.0.1:{port}",
        "--ingest-token", ingest_token.strip(),
        "--control-token", environment["PLATFORM_API_TOKEN"],
    ]  # fmt: skip
    return child_start(command=command, log_name="platform.log", environment=environment)


def child_start(*, command: list[str], log_name: str, environment: dict[str, str]):
    LOG_DIR.mkdir(exist_ok=True)
    with (LOG_DIR / log_name).open("ab") as log_file:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            start_new_session=True,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def children_watch(
    *,
    children: Children,
    restart: Callable[[], subprocess.Popen],
    stopping: threading.Event,
    delays: Sequence[float] = PLATFORM_RESTART_DELAYS,
    stable_seconds: float = PLATFORM_STABLE_SECONDS,
) -> int:
    """Watch the children until `stopping` is set; return the launcher's exit code.

    The help desk exiting ends the demo with 1. The platform exiting is logged and the platform
    restarted after each of `delays` in turn, while the help desk keeps serving. After the last
    delay the platform stays down until the launcher is restarted.
    """
    restarts = 0
    restart_at = None
    started_at = time.monotonic()
    while not stopping.wait(WATCH_INTERVAL_SECONDS):
        if children.web.poll() is not None:
            logger.error(
                "Help desk web server exited; stopping the demo",
                extra={"returncode": children.web.returncode},
            )
            return 1

        platform = children.platform
        if platform is not None and platform.poll() is not None:
            if time.monotonic() - started_at >= stable_seconds:
                restarts = 0
            restart_at = _platform_exit_report(
                returncode=platform.returncode, restarts=restarts, delays=delays
            )
            children.platform = None

        if restart_at is not None and time.monotonic() >= restart_at:
            children.platform = restart()
            restarts += 1
            restart_at = None
            started_at = time.monotonic()
            logger.info(
                "Demo platform restarted",
                extra={"pid": children.platform.pid, "attempt": restarts},
            )
    return 0


def _platform_exit_report(*, returncode: int, restarts: int, delays: Sequence[float]):
    """Log and print that the platform exited. Return when to restart it, or None for never."""
    if restarts >= len(delays):
        logger.error(
            "Demo platform exited too often; not restarting it",
            extra={"returncode": returncode, "restarts": restarts},
        )
        print(
            f"The demo platform exited with code {returncode} after {restarts} restarts and "
            "stays down; the help desk keeps running, and its quick actions report the platform "
            f"as unreachable. See {LOG_DIR / 'platform.log'}; restart the demo to try again.",
            file=sys.stderr,
            flush=True,
        )
        return None

    delay = delays[restarts]
    logger.error(
        "Demo platform exited; restarting it",
        extra={"returncode": returncode, "attempt": restarts + 1, "delay_seconds": delay},
    )
    print(
        f"The demo platform exited with code {returncode}; restarting it in {delay:g} s "
        f"(attempt {restarts + 1} of {len(delays)}). The help desk keeps running. "
        f"See {LOG_DIR / 'platform.log'}.",
        file=sys.stderr,
        flush=True,
    )
    return time.monotonic() + delay


def healthz_wait(
    url: str, *, process: subprocess.Popen, deadline: float, stopping: threading.Event
) -> None:
    while time.monotonic() < deadline:
        if stopping.is_set():
            raise RuntimeError("Stopped before the demo was up.")
        if process.poll() is not None:
            raise RuntimeError(
                f"The process serving {url} exited with code {process.returncode}; see {LOG_DIR}."
            )
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        stopping.wait(0.3)
    raise RuntimeError(f"{url} did not respond within {STARTUP_TIMEOUT_SECONDS:.0f} s.")


def children_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("Child did not stop in time; killing it", extra={"pid": process.pid})
            process.kill()
            process.wait()


def banner_print(*, port: int, platform_port: int) -> None:
    print(
        "\n"
        f"  Help desk:      http://127.0.0.1:{port}\n"
        "  Demo login:     operator / operator-demo\n"
        f"  Demo platform:  http://127.0.0.1:{platform_port} (control API)\n"
        f"  Logs:           {LOG_DIR / 'web.log'}, {LOG_DIR / 'platform.log'}\n"
        "  Stop with Ctrl-C.\n",
        flush=True,
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    port = int(os.environ.get("PORT", "8000"))
    platform_port = int(os.environ.get("PLATFORM_PORT", "8100"))
    environment = child_environment(platform_url=f"http://127.0.0.1:{platform_port}")

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    try:
        demo_load(environment)
    except subprocess.CalledProcessError as error:
        print(f"Loading the demo world failed (exit code {error.returncode}).", file=sys.stderr)
        return 1

    def restart() -> subprocess.Popen:
        return platform_start(port=port, platform_port=platform_port, environment=environment)

    children = Children(web=web_start(port=port, environment=environment), platform=restart())
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        healthz_wait(
            f"http://127.0.0.1:{port}/healthz",
            process=children.web,
            deadline=deadline,
            stopping=stopping,
        )
        _platform_wait(children=children, port=platform_port, deadline=deadline, stopping=stopping)
        banner_print(port=port, platform_port=platform_port)
        return children_watch(children=children, restart=restart, stopping=stopping)
    except RuntimeError as error:
        logger.error("Demo failed to start", extra={"error": str(error)})
        print(f"Demo failed to start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("Stopping the help desk and the demo platform...", flush=True)
        children_stop(children.running())


def _platform_wait(
    *, children: Children, port: int, deadline: float, stopping: threading.Event
) -> None:
    """Wait for the platform's health check. A platform that fails it is left to the watcher."""
    try:
        healthz_wait(
            f"http://127.0.0.1:{port}/healthz",
            process=children.platform,
            deadline=deadline,
            stopping=stopping,
        )
    except RuntimeError as error:
        if stopping.is_set():
            raise
        logger.error("Demo platform did not start", extra={"error": str(error)})
        print(f"The demo platform did not start: {error}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
