"""The throwaway database the evaluation runs on, and pointing Django at it."""

import logging
import os
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)


def database_prepare(*, workdir: Path) -> str:
    """Point Django at DATABASE_URL, else at a new SQLite file in `workdir`, and migrate it.

    NOTE: a DATABASE_URL must name a scratch database: the latency and Train Ticket parts leave
    their rows in it.
    """
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'evaluation.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    # The evaluation prints its own progress. The product's per-request INFO lines (hundreds
    # of thousands of ingested items) would bury it, unless HELPDESK_LOG_LEVEL is set to INFO.
    os.environ.setdefault("HELPDESK_LOG_LEVEL", "WARNING")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    logger.info("Evaluation database ready", extra={"database_url": url.split("@")[-1]})
    return url


def workdir_create() -> Path:
    return Path(tempfile.mkdtemp(prefix="helpdesk-eval-"))
