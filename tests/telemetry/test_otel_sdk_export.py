"""The OpenTelemetry SDK's own OTLP/HTTP exporters against a live help desk server."""

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from customers.models import AgentAssignment, Customer
from tests.telemetry.otlp_builders import INGEST_HEADERS


@pytest.fixture
def sdk_providers(live_server):
    """Tracer and logger providers that export each item as it ends, to the live server."""
    resource = Resource.create({"service.name": "WowMemory", "customer.id": "cust-123"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(
            OTLPSpanExporter(
                endpoint=f"{live_server.url}/v1/traces",
                headers=INGEST_HEADERS,
                compression=Compression.Gzip,
                timeout=10,
            )
        )
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(
            OTLPLogExporter(
                endpoint=f"{live_server.url}/v1/logs", headers=INGEST_HEADERS, timeout=10
            )
        )
    )

    yield tracer_provider.get_tracer("wow.platform"), logger_provider.get_logger("wow.platform")

    tracer_provider.shutdown()
    logger_provider.shutdown()


def test_sdk_spans_and_logs_stored(sdk_providers):
    tracer, platform_logger = sdk_providers

    with tracer.start_as_current_span("retrieve_context") as span:
        span.set_attribute("agent.request.body", '{"context_id": "ctx-456"}')
        span.set_attribute("error.type", "TimeoutError")
        # Records emitted inside the span carry its trace and span id from the current context.
        platform_logger.emit(severity_number=SeverityNumber.INFO, body="Connecting to database...")
        platform_logger.emit(severity_number=SeverityNumber.ERROR, body="Connection timeout")
        span.set_status(Status(StatusCode.ERROR, "Database connection timeout after 30s"))
    with tracer.start_as_current_span("store_context"):
        pass
    expected_span_id = format(span.get_span_context().span_id, "016x")

    customer = Customer.objects.get(customer_id="cust-123")
    interaction = customer.interactions.get(operation="retrieve_context")
    logs = list(interaction.logs.order_by("timestamp", "id"))
    assignment = AgentAssignment.objects.get(customer=customer, agent__name="WowMemory")
    assert interaction.span_id == expected_span_id
    assert interaction.status == "timeout"
    assert interaction.error_message == "Database connection timeout after 30s"
    assert interaction.request_body == '{"context_id": "ctx-456"}'
    assert [log.body for log in logs] == ["Connecting to database...", "Connection timeout"]
    assert [log.severity_text for log in logs] == ["INFO", "ERROR"]
    assert logs[0].customer == customer
    assert customer.interactions.count() == 2
    assert assignment.interaction_count == 2
    assert assignment.timeout_count == 1
