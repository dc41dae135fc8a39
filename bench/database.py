"""The bench database: which one, creating it, and pointing Django at it."""

import os

import dj_database_url
import psycopg
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/helpdesk_bench"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def database_ensure(*, url: str) -> bool:
    """Create the database named in `url` unless it exists; return True when it was created."""
    settings = dj_database_url.parse(url)
    if settings["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(f"The benchmark needs PostgreSQL, but DATABASE_URL is {url!r}.")

    server = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"] or "postgres",
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with server:
        exists = server.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]
        ).fetchone()
        if exists:
            return False
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
        return True


def django_setup(*, url: str) -> None:
    """Configure Django for the bench database with production settings (DEBUG off)."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

    import django

    django.setup()
