"""Log records: stored, joined to their interaction in either arrival order."""

import datetime as dt

import pytest

from telemetry.models import Interaction, LogRecord
from telemetry.services import logs_ingest, traces_ingest
from tests.factories import CustomerFactory
from tests.telemetry.otlp_builders import (
    START,
    log_build,
    logs_request_build,
    nanos,
    span_build,
    trace_request_build,
)

pytestmark = pytest.mark.django_db


def test_log_joins_stored_span():
    span = span_build()
    traces_ingest(request=trace_request_build(span))

    result = logs_ingest(
        request=logs_request_build(log_build(trace_id=span.trace_id, span_id=span.span_id))
    )

    record = LogRecord.objects.get()
    assert result.accepted == 1
    assert record.interaction == Interaction.objects.get()
    assert record.customer.customer_id == "cust-123"
    assert record.body == "Connecting to database..."
    assert record.severity_text == "INFO"
    assert record.timestamp == START


def test_log_before_span_joined_later():
    span = span_build()
    logs_ingest(
        request=logs_request_build(
            log_build(trace_id=span.trace_id, span_id=span.span_id),
            log_build(trace_id=span.trace_id, span_id=b"\x05" * 8, body="other span"),
        )
    )

    traces_ingest(request=trace_request_build(span))

    joined = LogRecord.objects.get(body="Connecting to database...")
    unjoined = LogRecord.objects.get(body="other span")
    assert joined.interaction == Interaction.objects.get()
    assert joined.customer.customer_id == "cust-123"
    assert unjoined.interaction is None
    assert unjoined.customer is None


def test_log_customer_from_attributes():
    CustomerFactory(customer_id="cust-456")

    logs_ingest(request=logs_request_build(log_build(attributes={"customer.id": "cust-456"})))

    record = LogRecord.objects.get()
    assert record.customer.customer_id == "cust-456"
    assert record.attributes == {}
    assert record.service_name == "wow-memory"


def test_log_time_falls_back_to_observed():
    record = log_build()
    record.time_unix_nano = 0
    record.observed_time_unix_nano = nanos(START + dt.timedelta(seconds=3))

    logs_ingest(request=logs_request_build(record))

    assert LogRecord.objects.get().timestamp == START + dt.timedelta(seconds=3)


def test_log_without_time_rejected():
    record = log_build()
    record.time_unix_nano = 0
    record.observed_time_unix_nano = 0

    result = logs_ingest(request=logs_request_build(log_build(), record))

    assert result.accepted == 1
    assert result.rejected == 1
    assert result.errors == [
        "resourceLogs[0].scopeLogs[0].logRecords[1]: timeUnixNano and observedTimeUnixNano "
        "are both missing: set the record's time."
    ]
    assert LogRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("number", "expected"),
    [(0, ""), (1, "TRACE"), (5, "DEBUG"), (12, "INFO"), (13, "WARN"), (17, "ERROR"), (24, "FATAL")],
)
def test_severity_text_from_number(number, expected):
    logs_ingest(request=logs_request_build(log_build(severity_number=number)))

    assert LogRecord.objects.get().severity_text == expected
