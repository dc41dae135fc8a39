"""The demo launcher's watch loop, run against real child processes."""

import logging
import subprocess
import sys
import threading
import time

import pytest

from demo_platform.launcher import Children, children_stop, children_watch

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]
DELAYS = (0.05, 0.1, 0.2)


class Starts:
    """Start a command on each call, keeping every process for the assertions and cleanup."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.processes: list[subprocess.Popen] = []

    def __call__(self) -> subprocess.Popen:
        process = subprocess.Popen(self.command)
        self.processes.append(process)
        return process


@pytest.fixture
def web():
    process = subprocess.Popen(SLEEPER)
    yield process
    children_stop([process])


def watch_in_thread(**arguments) -> tuple[threading.Thread, dict, threading.Event]:
    stopping = threading.Event()
    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.update(code=children_watch(stopping=stopping, **arguments))
    )
    thread.start()
    return thread, outcome, stopping


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


def test_platform_crash_keeps_web(web, caplog):
    caplog.set_level(logging.INFO, logger="demo_platform.launcher")
    starts = Starts(CRASHER)
    children = Children(web=web, platform=starts())

    thread, outcome, stopping = watch_in_thread(
        children=children, restart=starts, delays=DELAYS, stable_seconds=60
    )
    wait_for(lambda: "Demo platform exited too often; not restarting it" in caplog.messages)
    stopping.set()
    thread.join(timeout=10)

    messages = caplog.messages
    assert outcome == {"code": 0}
    assert web.poll() is None
    assert len(starts.processes) == 1 + len(DELAYS)
    assert children.platform is None
    assert messages.count("Demo platform exited; restarting it") == 3
    assert messages.count("Demo platform restarted") == 3
    assert messages.count("Demo platform exited too often; not restarting it") == 1


def test_platform_restart_keeps_running(web):
    starts = Starts(SLEEPER)
    crashed = subprocess.Popen(CRASHER)
    children = Children(web=web, platform=crashed)

    thread, outcome, stopping = watch_in_thread(children=children, restart=starts, delays=DELAYS)
    wait_for(lambda: children.platform is not None and children.platform is not crashed)
    stopping.set()
    thread.join(timeout=10)
    restarted = children.platform
    children_stop(children.running())

    assert outcome == {"code": 0}
    assert starts.processes == [restarted]
    assert crashed.returncode == 3


def test_web_exit_stops_demo(caplog):
    platform = subprocess.Popen(SLEEPER)
    children = Children(web=subprocess.Popen(CRASHER), platform=platform)

    thread, outcome, _ = watch_in_thread(children=children, restart=Starts(SLEEPER))
    thread.join(timeout=10)
    children_stop(children.running())

    assert outcome == {"code": 1}
    assert "Help desk web server exited; stopping the demo" in caplog.messages
    assert platform.returncode is not None


def test_stable_platform_restarts_again(web):
    starts = Starts(CRASHER)
    children = Children(web=web, platform=starts())

    # With every run counted as stable, the restart budget never runs out.
    thread, _, stopping = watch_in_thread(
        children=children, restart=starts, delays=(0.05,), stable_seconds=0
    )
    wait_for(lambda: len(starts.processes) >= 4)
    stopping.set()
    thread.join(timeout=10)
    children_stop(children.running())

    assert len(starts.processes) >= 4
