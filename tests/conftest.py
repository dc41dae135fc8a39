"""Shared fixtures and the rules for tests that need PostgreSQL, Redis or a browser.

Without DATABASE_URL and REDIS_URL the suite runs on SQLite with eager Celery and skips the tests
that need more, printing why. With CI set, a test that would skip for a missing service fails.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from helpdesk.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CHROMIUM_PATH = os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_requirement(marker_name: str) -> str | None:
    """Return why a test with this marker cannot run here, or None when it can."""
    if marker_name == "postgres" and not settings.USING_POSTGRES:
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker_name == "redis" and not settings.REDIS_URL:
        return "needs Redis and a Celery worker: set REDIS_URL=redis://..."
    if marker_name == "browser":
        if not Path(CHROMIUM_PATH).exists():
            return f"needs Chromium at {CHROMIUM_PATH}: apt-get install chromium"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs the playwright package: pip install playwright"
    return None


def pytest_runtest_setup(item):
    for marker_name in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker_name) is None:
            continue
        reason = missing_requirement(marker_name)
        if reason is None:
            continue
        if IN_CI:
            pytest.fail(f"CI runs every test, but this one {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Run tasks in-process unless the test is marked to use the real worker."""
    eager = request.node.get_closest_marker("redis") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash test passwords with MD5: the production hasher costs seconds per user on two cores."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(db, django_user_model):
    return django_user_model.objects.create_user(
        username="operator", password="operator-pass", email="operator@example.com"
    )


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"Shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


def database_url_for_children() -> str:
    """Build a DATABASE_URL that points a child process at this test run's database."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    password = params.get("PASSWORD") or ""
    credentials = f"{user}:{password}" if password else user
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """Start a real Celery worker on the test database and a private queue; stop it afterwards."""
    queue = f"helpdesk-test-{os.getpid()}"
    celery_app.conf.task_default_queue = queue
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for_children(),
        "HELPDESK_CELERY_QUEUE": queue,
        "DATABASE_CONN_MAX_AGE": "0",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "helpdesk", "worker",
        "--pool", "solo", "--queues", queue, "--loglevel", "INFO", "--without-heartbeat",
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=0.5) or []
        if replies:
            break
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"Celery worker exited early:\n{output[-3000:]}")
    else:
        process.kill()
        pytest.fail("Celery worker did not respond to a ping within 30 s")

    yield process

    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    celery_app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return shutil.which(CHROMIUM_PATH) or CHROMIUM_PATH


@pytest.fixture
def page(chromium_path):
    """A Chromium page; Playwright's sync API runs an event loop, so Django must allow ORM use."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-gpu",
            ],
        )
        context = browser.new_context(timezone_id="UTC")
        browser_page = context.new_page()
        browser_page.set_default_timeout(15_000)
        yield browser_page
        context.close()
        browser.close()
        # While Playwright's loop runs, Django keeps the test's database connections apart from
        # the ones it opened outside, so they are closed here, before the loop ends, or they
        # would hold the test database open at teardown.
        connections.close_all()


@pytest.fixture(autouse=True)
def no_scan_from_web(settings):
    """Keep the dashboard from starting the proactive scan on a thread; tests run it directly."""
    settings.HELPDESK_SCAN_IN_WEB = False
