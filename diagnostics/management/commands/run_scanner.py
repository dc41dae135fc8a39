import logging
import signal
import threading

from django.core.management.base import BaseCommand

from diagnostics.scan import active_issues_scan, scan_interval

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the proactive active-issue scan every HELPDESK_SCAN_INTERVAL_SECONDS until stopped, "
        "for setups without Celery beat such as the demo. --once runs one scan and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one scan, then exit.")

    def handle(self, *args, once: bool, **options):
        stopping = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stopping.set())

        interval = scan_interval()
        logger.info("Scanner started", extra={"interval_seconds": interval.total_seconds()})
        while True:
            result = active_issues_scan(min_gap=interval / 2)
            self.stdout.write(self.summary(result.as_dict()))
            if once or stopping.wait(interval.total_seconds()):
                break
        logger.info("Scanner stopped")

    def summary(self, result: dict) -> str:
        if result["skipped"]:
            return "Scan skipped: another run started less than half an interval ago."
        return (
            f"Scanned {result['customers_scanned']} customers: {result['issues_opened']} issues "
            f"opened, {result['issues_updated']} updated, {result['issues_resolved']} resolved."
        )
