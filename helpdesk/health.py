"""The health check, the only page served without login."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Health check: database unreachable", extra={"error": str(error)})
        return {"status": "unavailable", "error": type(error).__name__}
    return {"status": "ok", "vendor": connection.vendor}


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

    A broker outage alone answers 200, because actions wait in the database until it returns.
    """
    database = check_database()
    broker = check_broker()
    healthy = database["status"] == "ok"
    body = {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if healthy else 503)
