import json
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.timeline_export import timeline_export_chunks
from tests.customers.story import story_build
from tests.factories import CustomerFactory, InteractionFactory, LogRecordFactory

pytestmark = pytest.mark.django_db

EXPORT_URL = "/customers/cust-123/timeline/export.json"


def export_document(response) -> dict:
    return json.loads(b"".join(response.streaming_content))


def test_export_is_attachment(operator_client):
    story_build()

    response = operator_client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="cust-123-timeline-')
    assert response["Content-Disposition"].endswith('.json"')


def test_export_lists_entries_newest_first(operator_client):
    story_build()

    document = export_document(operator_client.get(EXPORT_URL))

    operations = [entry["operation"] for entry in document["interactions"]]
    assert document["customer_id"] == "cust-123"
    assert operations == ["retrieve_context", "start_trial_workflow", "store_context"]
    assert document["count"] == 3
    assert document["truncated"] is False
    assert document["note"] is None


def test_export_masks_secrets(operator_client):
    story_build()

    response = operator_client.get(EXPORT_URL)
    raw = b"".join(response.streaming_content).decode()

    timed_out = json.loads(raw)["interactions"][0]
    assert "s3cr3t" not in raw
    assert timed_out["request"]["headers"]["Authorization"] == "***"


def test_export_includes_logs_in_order(operator_client):
    story_build()

    document = export_document(operator_client.get(EXPORT_URL))

    logs = {entry["operation"]: entry["logs"] for entry in document["interactions"]}
    assert logs["retrieve_context"] == ["Connecting to database...", "Connection timeout"]
    assert logs["store_context"] == []


def test_export_applies_filters(operator_client):
    story_build()

    response = operator_client.get(EXPORT_URL, {"agent": "WowMemory", "status": "timeout"})
    document = export_document(response)

    assert [entry["status"] for entry in document["interactions"]] == ["timeout"]
    assert document["filters"]["agent"] == "WowMemory"
    assert document["filters"]["status"] == "timeout"


def test_export_operation_filter_free_text(operator_client):
    story_build()

    document = export_document(operator_client.get(EXPORT_URL, {"operation": "CONTEXT"}))

    operations = [entry["operation"] for entry in document["interactions"]]
    assert operations == ["retrieve_context", "store_context"]


def test_export_invalid_filter_400(operator_client):
    story_build()

    response = operator_client.get(EXPORT_URL, {"status": "exploded"})

    assert response.status_code == 400
    assert response.json()["message"] == "Invalid timeline filters; correct them and export again."
    assert "status" in response.json()["errors"]


def test_export_unknown_customer_404(operator_client):
    response = operator_client.get("/customers/cust-missing/timeline/export.json")

    assert response.status_code == 404


def test_export_requires_login(client):
    response = client.get(EXPORT_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_export_truncates_with_note():
    customer = CustomerFactory(customer_id="cust-many")
    now = timezone.now()
    for minute in range(5):
        interaction = InteractionFactory(
            customer=customer,
            operation=f"op_{minute}",
            started_at=now - timedelta(minutes=minute),
        )
        LogRecordFactory(interaction=interaction, body=f"log of op_{minute}")

    chunks = timeline_export_chunks(customer=customer, selection={}, filters={}, now=now, limit=3)
    document = json.loads("".join(chunks))

    assert [entry["operation"] for entry in document["interactions"]] == ["op_0", "op_1", "op_2"]
    assert [entry["logs"] for entry in document["interactions"]] == [
        ["log of op_0"],
        ["log of op_1"],
        ["log of op_2"],
    ]
    assert document["count"] == 3
    assert document["truncated"] is True
    assert "newest 3" in document["note"]


def test_export_empty_timeline_valid_json(operator_client):
    CustomerFactory(customer_id="cust-123")

    document = export_document(operator_client.get(EXPORT_URL))

    assert document["interactions"] == []
    assert document["count"] == 0


def test_timeline_links_export_with_filters(operator_client):
    story_build()

    response = operator_client.get(
        "/customers/cust-123/timeline/", {"agent": "WowMemory", "status": "timeout", "cursor": ""}
    )

    body = response.content.decode()
    assert (
        'href="/customers/cust-123/timeline/export.json?agent=WowMemory&amp;status=timeout"' in body
    )
