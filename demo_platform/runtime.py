"""Wiring of one demo platform process: world, telemetry, events, state, simulation, server."""

import logging
import random
import threading
from dataclasses import dataclass

from demo_platform.events import EventSender, world_events
from demo_platform.instrumentation import AgentTelemetry, otlp_telemetry_create
from demo_platform.server import ControlServer
from demo_platform.simulation import Simulation
from demo_platform.state import PlatformState
from demo_platform.workflow import AGENT_VERSIONS, InteractionRecord
from demo_platform.world import DEFAULT_CUSTOMER_COUNT, DEFAULT_SEED, world_build

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformConfig:
    port: int = 8100
    helpdesk_url: str = "http://127.0.0.1:8000"
    ingest_token: str = "demo-ingest-token"  # noqa: S105 - the demo's documented default
    control_token: str = "demo-platform-token"  # noqa: S105 - the demo's documented default
    customer_count: int = DEFAULT_CUSTOMER_COUNT
    seed: int = DEFAULT_SEED
    start_new_trials: bool = True
    # How long the batch processors wait before exporting, in milliseconds.
    export_delay_ms: int = 500


class HelpdeskPublisher:
    """Send spans and logs over OTLP and state events to the help desk."""

    def __init__(self, *, telemetry: AgentTelemetry, sender: EventSender):
        self.telemetry = telemetry
        self.sender = sender

    def interaction_emit(self, record: InteractionRecord) -> None:
        self.telemetry.interaction_emit(record)

    def events_send(self, events: list[dict]) -> None:
        self.sender.send(events)


class DemoPlatform:
    def __init__(self, config: PlatformConfig):
        self.config = config
        self.world = world_build(seed=config.seed, customer_count=config.customer_count)
        delivery_lock = threading.Lock()
        self.telemetry = otlp_telemetry_create(
            helpdesk_url=config.helpdesk_url,
            ingest_token=config.ingest_token,
            delivery_lock=delivery_lock,
            schedule_delay_millis=config.export_delay_ms,
        )
        self.sender = EventSender(
            helpdesk_url=config.helpdesk_url,
            ingest_token=config.ingest_token,
            delivery_lock=delivery_lock,
        )
        publisher = HelpdeskPublisher(telemetry=self.telemetry, sender=self.sender)
        self.state = PlatformState(world=self.world, publisher=publisher, rng=random.Random())
        self.simulation = Simulation(state=self.state, start_new_trials=config.start_new_trials)
        self.server = ControlServer(
            port=config.port, state=self.state, control_token=config.control_token
        )
        self.server_thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="control-api",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        """Start sending, announce the world's state, then serve and simulate."""
        self.sender.start()
        # The help desk reflects the platform's truth after any restart of either side.
        with self.state.lock:
            self.sender.send(world_events(self.world, agent_versions=AGENT_VERSIONS))
        self.server_thread.start()
        self.simulation.start()
        logger.info(
            "Demo platform started",
            extra={"port": self.port, "customers": len(self.world.customers)},
        )

    def stop(self) -> None:
        logger.info("Demo platform stopping", extra={"port": self.port})
        self.simulation.stop()
        self.server.shutdown()
        self.server.server_close()
        self.sender.stop(timeout=5.0)
        self.telemetry.shutdown()
        logger.info("Demo platform stopped", extra={"port": self.port})
