"""The health check, the only page served without login."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from customers.models import Customer

logger = logging.getLogger(__name__)

SCHEMA_MISSING_ERROR = "schema missing: run manage.py migrate"


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Health check: database unreachable", extra={"error": str(error)})
        return {"status": "unavailable", "error": type(error).__name__}

    if not schema_present():
        return {"status": "unavailable", "error": SCHEMA_MISSING_ERROR}
    return {"status": "ok", "vendor": connection.vendor}


def schema_present() -> bool:
    """Tell whether the product's tables exist, with one cheap query on the customer table.

    SQLite creates an empty database file when the configured one is missing, so a bare
    SELECT 1 succeeds on a database without any tables.
    """
    table = connection.ops.quote_name(Customer._meta.db_table)
    try:
        # The savepoint keeps a failed query from aborting an enclosing PostgreSQL transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 (a model's table name)
    except DatabaseError as error:
        logger.warning("Health check: database schema missing", extra={"error": str(error)})
        return False
    return True


def check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "ok", "mode": "eager"}

    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1)
        client.ping()
    except redis.RedisError as error:
        logger.warning("Health check: broker unreachable", extra={"error": str(error)})
        return {"status": "unavailable", "mode": "redis", "error": type(error).__name__}
    return {"status": "ok", "mode": "redis"}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Report the database and broker state; 503 when the database cannot be reached.

    A broker outage alone returns 200, because actions wait in the database until it returns.
    """
    database = check_database()
    broker = check_broker()
    healthy = database["status"] == "ok"
    body = {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if healthy else 503)
