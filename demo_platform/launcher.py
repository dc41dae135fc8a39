"""Serve the demo: load the demo world, start the demo platform and gunicorn, stop both on exit.

`make run` calls `python -m demo_platform.launcher` after migrating. PORT (default 8000) sets
the help desk's port and PLATFORM_PORT (default 8100) the demo platform's; both listen on
127.0.0.1 only. Ctrl-C or SIGTERM stops both children.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

logger = logging.getLogger("demo_platform.launcher")

ROOT = Path(__file__).resolve().parent.parent
# Child output goes to files so the terminal keeps the address and login in view.
LOG_DIR = ROOT / ".demo"
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
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


def children_start(*, port: int, platform_port: int, environment: dict[str, str]) -> list:
    """Start gunicorn, then the platform, each in its own session so Ctrl-C reaches us only."""
    ingest_token = os.environ.get("HELPDESK_INGEST_TOKENS", INGEST_TOKEN_DEFAULT).split(",")[0]
    gunicorn = [
        sys.executable, "-m", "gunicorn", "helpdesk.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", os.environ.get("WEB_WORKERS", "2"),
        "--threads", os.environ.get("WEB_THREADS", "4"),
        "--access-logfile", "-",
        "--no-control-socket",
    ]  # fmt: skip
    platform = [
        sys.executable, "-m", "demo_platform",
        "--port", str(platform_port),
        "--helpdesk-url", f"http://127.0.0.1:{port}",
        "--ingest-token", ingest_token.strip(),
        "--control-token", environment["PLATFORM_API_TOKEN"],
    ]  # fmt: skip
    LOG_DIR.mkdir(exist_ok=True)
    processes = []
    for command, log_name in ((gunicorn, "web.log"), (platform, "platform.log")):
        with (LOG_DIR / log_name).open("ab") as log_file:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=environment,
                    start_new_session=True,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            )
    return processes


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
    raise RuntimeError(f"{url} did not answer within {STARTUP_TIMEOUT_SECONDS:.0f} s.")


def children_stop(processes: list) -> None:
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
    processes = children_start(port=port, platform_port=platform_port, environment=environment)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        for url, process in (
            (f"http://127.0.0.1:{port}/healthz", processes[0]),
            (f"http://127.0.0.1:{platform_port}/healthz", processes[1]),
        ):
            healthz_wait(url, process=process, deadline=deadline, stopping=stopping)
        banner_print(port=port, platform_port=platform_port)
        while not stopping.wait(0.5):
            exited = [process for process in processes if process.poll() is not None]
            if exited:
                logger.error("A child process exited; stopping the demo")
                return 1
        return 0
    except RuntimeError as error:
        logger.error("Demo failed to start", extra={"error": str(error)})
        print(f"Demo failed to start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("Stopping the help desk and the demo platform...", flush=True)
        children_stop(processes)


if __name__ == "__main__":
    sys.exit(main())
