"""Wiring of one demo platform process: world, telemetry, events, state, simulation, server."""

import logging
import random
import threading
from dataclasses import dataclass

from demo_platform.alerts import AlertSender, fault_alert
from demo_platform.events import EventSender, world_events
from demo_platform.instrumentation import AgentTelemetry, otlp_telemetry_create
from demo_platform.metrics import MetricsSource, meter_provider_create
from demo_platform.server import ControlServer
from demo_platform.simulation import Simulation
from demo_platform.state import PlatformState
from demo_platform.workflow import AGENT_VERSIONS, InteractionRecord
from demo_platform.world import DEFAULT_CUSTOMER_COUNT, DEFAULT_SEED, world_build

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlatformConfig:
    port: int = 8100
    # Loopback unless a container setup needs the control API reachable from other hosts.
    host: str = "127.0.0.1"
    helpdesk_url: str = "http://127.0.0.1:8000"
    ingest_token: str = "demo-ingest-token"  # noqa: S105 - the demo's documented default
    control_token: str = "demo-platform-token"  # noqa: S105 - the demo's documented default
    customer_count: int = DEFAULT_CUSTOMER_COUNT
    seed: int = DEFAULT_SEED
    start_new_trials: bool = True
    # How long the batch processors wait before exporting, in milliseconds.
    export_delay_ms: int = 500
    # How often the metric reader collects and exports, in milliseconds.
    metric_interval_ms: int = 2000


class HelpdeskPublisher:
    """Send spans and logs over OTLP, and state events and alerts, to the help desk."""

    def __init__(
        self, *, telemetry: AgentTelemetry, sender: EventSender, alert_sender: AlertSender
    ):
        self.telemetry = telemetry
        self.sender = sender
        self.alert_sender = alert_sender

    def interaction_emit(self, record: InteractionRecord) -> None:
        self.telemetry.interaction_emit(record)

    def events_send(self, events: list[dict]) -> None:
        self.sender.send(events)

    def alerts_send(self, alerts: list[dict]) -> None:
        self.alert_sender.send(alerts)


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
        self.alert_sender = AlertSender(
            helpdesk_url=config.helpdesk_url,
            ingest_token=config.ingest_token,
            delivery_lock=delivery_lock,
        )
        publisher = HelpdeskPublisher(
            telemetry=self.telemetry, sender=self.sender, alert_sender=self.alert_sender
        )
        self.state = PlatformState(world=self.world, publisher=publisher, rng=random.Random())

        self.meter_provider = meter_provider_create(
            source=MetricsSource(faults_read=self.state.faults_active, rng=random.Random()),
            exporter=metric_exporter_create(
                helpdesk_url=config.helpdesk_url,
                ingest_token=config.ingest_token,
                delivery_lock=delivery_lock,
            ),
            export_interval_millis=config.metric_interval_ms,
        )

        self.simulation = Simulation(state=self.state, start_new_trials=config.start_new_trials)
        self.server = ControlServer(
            port=config.port,
            host=config.host,
            state=self.state,
            control_token=config.control_token,
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
        self.alert_sender.start()
        # The help desk reflects the platform's truth after any restart of either side.
        with self.state.lock:
            self.sender.send(world_events(self.world, agent_versions=AGENT_VERSIONS))
            alerts = [fault_alert(fault) for fault in self.world.faults.values()]
            self.alert_sender.send([alert for alert in alerts if alert is not None])
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
        self.alert_sender.stop(timeout=5.0)
        self.meter_provider.shutdown()
        self.telemetry.shutdown()
        logger.info("Demo platform stopped", extra={"port": self.port})


def metric_exporter_create(*, helpdesk_url: str, ingest_token: str, delivery_lock: threading.Lock):
    """Build the OTLP/HTTP metric exporter, sending under the shared delivery lock."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    from demo_platform.instrumentation import SerialMetricExporter

    exporter = OTLPMetricExporter(
        endpoint=f"{helpdesk_url.rstrip('/')}/v1/metrics",
        headers={"Authorization": f"Bearer {ingest_token}"},
        timeout=5,
    )
    return SerialMetricExporter(exporter, delivery_lock)
