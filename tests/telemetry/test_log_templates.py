"""drain3 template mining on log ingest: masking, reuse across batches and restarts, counts."""

import datetime as dt
import uuid

import pytest

from telemetry import selectors
from telemetry.log_templates import log_body_mask, log_template_miner_reset
from telemetry.models import LogRecord, LogTemplate, LogTemplateMinerState
from telemetry.services import logs_ingest
from tests.factories import CustomerFactory
from tests.telemetry.otlp_builders import START, log_build, logs_request_build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_miner():
    """Start each test, and leave it, with no miner cached in this process."""
    log_template_miner_reset()
    yield
    log_template_miner_reset()


def ingest(*bodies: str, moment: dt.datetime = START, severity_number: int = 17, **attributes):
    records = [
        log_build(body=body, moment=moment, severity_number=severity_number, attributes=attributes)
        for body in bodies
    ]
    return logs_ingest(request=logs_request_build(*records))


@pytest.mark.parametrize(
    ("body", "masked"),
    [
        ("Loaded context ctx-451", "Loaded context <ID>"),
        ("Restarting WowMemory for cust-123: manual", "Restarting WowMemory for <ID>: manual"),
        ("Database connection timeout after 30s", "Database connection timeout after <NUM>"),
        ("Pool wowmemory-primary: 95/100 in use", "Pool wowmemory-primary: <NUM>/<NUM> in use"),
        ("Checksum expected 9f2c41d0, got 0x1F", "Checksum expected <HEX>, got <HEX>"),
        ("Connect to 10.0.0.12:5432 failed", "Connect to <IP> failed"),
        ("Peer fe80::1ff:fe23:4567:890a closed", "Peer <IP> closed"),
        ("Mail to john@example.com bounced", "Mail to <EMAIL> bounced"),
        ("Job 123e4567-e89b-12d3-a456-426614174000 done", "Job <UUID> done"),
    ],
)
def test_body_mask_replaces_values(body, masked):
    assert log_body_mask(body=body) == masked


def test_similar_bodies_share_template():
    ingest("Loaded context ctx-451 in 70ms", "Loaded context ctx-452 in 12ms")

    template = LogTemplate.objects.get()
    assert template.template == "Loaded context <ID> in <NUM>"
    assert template.count == 2
    assert template.first_seen == START
    assert template.last_seen == START
    assert set(LogRecord.objects.values_list("template", flat=True)) == {template.pk}


def test_different_bodies_get_templates():
    ingest("Database connection timeout after 30s", "Stored context ctx-9")

    assert sorted(LogTemplate.objects.values_list("template", flat=True)) == [
        "Database connection timeout after <NUM>",
        "Stored context <ID>",
    ]


def test_template_reused_next_batch():
    ingest("Connection pool wowmemory-primary: 95/100 connections in use")
    later = START + dt.timedelta(minutes=5)

    ingest("Connection pool wowmemory-primary: 97/100 connections in use", moment=later)

    template = LogTemplate.objects.get()
    assert template.count == 2
    assert template.last_seen == later
    assert LogRecord.objects.filter(template=template).count() == 2


def test_template_reused_after_restart():
    ingest("Task not picked up from orchestration.tasks within 15s (250 pending)")
    cluster_id = LogTemplate.objects.get().cluster_id
    log_template_miner_reset()

    ingest("Task not picked up from orchestration.tasks within 15s (251 pending)")
    ingest("Key service answered 429, retrying in 50ms")

    template = LogTemplate.objects.get(cluster_id=cluster_id)
    assert template.count == 2
    assert LogTemplate.objects.count() == 2
    assert LogTemplate.objects.exclude(cluster_id=cluster_id).get().cluster_id == cluster_id + 1


def test_changed_template_rewritten():
    ingest("Agent WowMemory restarted by operator")

    ingest("Agent WowCache restarted by operator")

    template = LogTemplate.objects.get()
    assert template.template == "Agent <*> restarted by operator"
    assert template.count == 2
    assert template.revision == LogTemplateMinerState.objects.get().revision


def test_other_process_templates_loaded():
    ingest("Stored context ctx-1")
    # Another process adds a template: bump the state as its miner would.
    state = LogTemplateMinerState.objects.get()
    state.revision += 1
    state.token = uuid.uuid4()
    state.save()
    LogTemplate.objects.create(
        cluster_id=7,
        template="Cache segment <ID> evicted",
        revision=state.revision,
        first_seen=START,
        last_seen=START,
        count=1,
    )

    ingest("Cache segment seg-4 evicted")

    assert LogTemplate.objects.get(cluster_id=7).count == 2
    assert LogTemplate.objects.count() == 2


def test_empty_body_has_no_template():
    ingest("   ")

    assert LogRecord.objects.get().template is None
    assert LogTemplate.objects.count() == 0


def test_template_counts_new_and_bursting():
    customer = CustomerFactory(customer_id="cust-123")
    baseline = START - dt.timedelta(hours=2)
    ingest("Database connection timeout after 30s", moment=baseline, **{"customer.id": "cust-123"})
    ingest(
        "Database connection timeout after 30s",
        "Database connection timeout after 31s",
        "Checksum mismatch in cache segment seg-17",
        **{"customer.id": "cust-123"},
    )
    ingest("Database connection timeout after 29s", **{"customer.id": "cust-456"})

    counts = selectors.log_template_counts_list(
        since=START - dt.timedelta(minutes=30),
        until=START + dt.timedelta(minutes=1),
        baseline_since=START - dt.timedelta(hours=3),
        customer=customer,
        min_severity_number=17,
    )

    assert [(c.template, c.count, c.baseline_count) for c in counts] == [
        ("Database connection timeout after <NUM>", 2, 1),
        ("Checksum mismatch in cache segment <ID>", 1, 0),
    ]
    assert counts[0].agent == "wow-memory"
    assert counts[0].is_new is False
    assert counts[1].is_new is True


def test_template_counts_skip_info():
    ingest("Connecting to database...", severity_number=9)

    counts = selectors.log_template_counts_list(
        since=START - dt.timedelta(minutes=1),
        until=START + dt.timedelta(minutes=1),
        baseline_since=START - dt.timedelta(hours=1),
        min_severity_number=17,
    )

    assert counts == []
