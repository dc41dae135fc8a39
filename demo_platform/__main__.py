"""Run the demo platform: `python -m demo_platform --port 8100 --helpdesk-url ...`.

Every option can also come from the environment (DEMO_PLATFORM_PORT, HELPDESK_URL,
HELPDESK_INGEST_TOKEN, PLATFORM_API_TOKEN, DEMO_PLATFORM_CUSTOMERS, DEMO_PLATFORM_SEED,
DEMO_PLATFORM_METRIC_INTERVAL_MS); the command line wins.
"""

import argparse
import logging
import os
import signal
import threading

from demo_platform.runtime import DemoPlatform, PlatformConfig
from demo_platform.world import DEFAULT_CUSTOMER_COUNT, DEFAULT_SEED

logger = logging.getLogger("demo_platform")


def arguments_parse(argv: list[str] | None = None) -> PlatformConfig:
    environ = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m demo_platform",
        description="Simulated agent platform for demos and end-to-end tests of the help desk.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(environ.get("DEMO_PLATFORM_PORT", environ.get("PLATFORM_PORT", "8100"))),
        help="Port of the control API (0 picks a free port). Default 8100.",
    )
    parser.add_argument(
        "--host",
        default=environ.get("DEMO_PLATFORM_HOST", "127.0.0.1"),
        help="Address the control API listens on. Default 127.0.0.1 (loopback only).",
    )
    parser.add_argument(
        "--helpdesk-url",
        default=environ.get("HELPDESK_URL", "http://127.0.0.1:8000"),
        help="Base URL of the help desk that receives OTLP and state events.",
    )
    parser.add_argument(
        "--ingest-token",
        default=environ.get("HELPDESK_INGEST_TOKEN", "demo-ingest-token"),
        help="Bearer token sent to the help desk's ingest endpoints.",
    )
    parser.add_argument(
        "--control-token",
        default=environ.get("PLATFORM_API_TOKEN", "demo-platform-token"),
        help="Bearer token the control API requires.",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=int(environ.get("DEMO_PLATFORM_CUSTOMERS", str(DEFAULT_CUSTOMER_COUNT))),
        help="Number of customers in the world, the story customers included.",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=int(environ.get("DEMO_PLATFORM_SEED", str(DEFAULT_SEED))),
        help="Seed of the world; load_demo must use the same one.",
    )
    parser.add_argument(
        "--metric-interval-ms",
        type=int,
        default=int(environ.get("DEMO_PLATFORM_METRIC_INTERVAL_MS", "2000")),
        help="How often metrics are collected and exported to the help desk, in milliseconds.",
    )
    parser.add_argument(
        "--no-new-trials",
        action="store_true",
        help="Do not start new trials; only the world's running trials progress.",
    )
    options = parser.parse_args(argv)
    return PlatformConfig(
        port=options.port,
        host=options.host,
        helpdesk_url=options.helpdesk_url,
        ingest_token=options.ingest_token,
        control_token=options.control_token,
        customer_count=options.customers,
        seed=options.seed,
        start_new_trials=not options.no_new_trials,
        metric_interval_ms=options.metric_interval_ms,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=os.environ.get("DEMO_PLATFORM_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    config = arguments_parse(argv)
    platform = DemoPlatform(config)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    platform.start()
    print(f"Demo platform listening on http://{config.host}:{platform.port}", flush=True)
    stopping.wait()
    platform.stop()


if __name__ == "__main__":
    main()
