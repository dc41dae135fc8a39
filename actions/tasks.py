"""Celery tasks for quick actions. Each task takes ids and calls one service."""

import logging

from celery import Task, shared_task

from actions import services
from actions.platform_client import PlatformUnavailable

logger = logging.getLogger(__name__)


class QuickActionTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Record the failure on the row, so an action never stays pending or running for ever.

        Covers the attempt that exhausts the retries as well as time limits and bugs.
        """
        action_pk = kwargs.get("action_pk", args[0] if args else None)
        logger.error(
            "Quick action task failed",
            extra={"action_pk": action_pk, "task_id": task_id, "error": repr(exc)},
        )
        if action_pk is not None:
            # A platform error's detail leaves out its advice, because the failure adds its own.
            message = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
            services.quick_action_fail(action_pk=action_pk, error=message)


@shared_task(
    base=QuickActionTask,
    acks_late=True,
    autoretry_for=(PlatformUnavailable,),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=services.RUN_TIME_LIMIT_SECONDS - 15,
    time_limit=services.RUN_TIME_LIMIT_SECONDS,
)
def run_quick_action(action_pk: int) -> None:
    services.quick_action_run(action_pk=action_pk, max_attempts=run_quick_action.max_retries + 1)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def requeue_stale_quick_actions() -> int:
    return services.quick_actions_requeue_stale()
