"""Celery tasks of the Issue Detective. Each task is an interface to one service."""

import logging

from celery import shared_task

from diagnostics.scan import active_issues_scan, scan_interval

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=100, time_limit=120)
def scan_active_issues() -> dict:
    """Run the proactive scan, unless another run started within half an interval.

    Beat enqueues it every HELPDESK_SCAN_INTERVAL_SECONDS; half the interval as the gap lets a
    slightly early beat tick run while a duplicate enqueue or the demo's web trigger is skipped.
    """
    return active_issues_scan(min_gap=scan_interval() / 2).as_dict()
