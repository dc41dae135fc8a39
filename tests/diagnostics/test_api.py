import pytest

from diagnostics.models import Diagnosis
from tests.diagnostics.factories import story_build

pytestmark = pytest.mark.django_db

DIAGNOSE_URL = "/api/platform/helpdesk/diagnose"


def resolve_url(diagnosis_id: str) -> str:
    return f"/api/platform/helpdesk/diagnoses/{diagnosis_id}/resolve"


def test_diagnose_returns_story_result(operator_client, operator):
    story_build()

    response = operator_client.post(
        DIAGNOSE_URL,
        {"customer_id": "cust-123", "issue_description": "Trial activation stuck"},
        content_type="application/json",
    )
    body = response.json()
    diagnosis = Diagnosis.objects.get()

    assert response.status_code == 200
    assert body["diagnosis_id"] == diagnosis.diagnosis_id
    assert body["kind"] == "db_pool_exhaustion"
    assert body["root_cause"]["summary"] == "Database connection timeout in WowMemory"
    assert body["root_cause"]["confidence"] == 0.9
    assert body["root_cause"]["stuck_step"] == 7
    assert body["resolution_steps"][1]["params"] == {"agent": "WowMemory"}
    assert body["resolution_steps"][2]["params"] == {
        "workflow_id": "trial-wf-12345",
        "from_step": 7,
    }
    assert body["recommended_playbook"] == "playbook-trial-stuck-init"
    assert diagnosis.requested_by == operator
    assert diagnosis.issue_description == "Trial activation stuck"


def test_diagnose_unknown_customer_404(operator_client):
    response = operator_client.post(
        DIAGNOSE_URL, {"customer_id": "cust-missing"}, content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer 'cust-missing' not found: check the customer id.",
        "errors": [],
    }
    assert Diagnosis.objects.count() == 0


def test_diagnose_requires_authentication(client):
    story_build()

    response = client.post(
        DIAGNOSE_URL, {"customer_id": "cust-123"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert Diagnosis.objects.count() == 0


def test_diagnosis_detail_returns_stored(operator_client):
    story_build()
    created = operator_client.post(
        DIAGNOSE_URL, {"customer_id": "cust-123"}, content_type="application/json"
    ).json()

    response = operator_client.get(f"/api/platform/helpdesk/diagnoses/{created['diagnosis_id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_resolve_marks_past_issue(operator_client, operator):
    story_build()
    diagnosis_id = operator_client.post(
        DIAGNOSE_URL, {"customer_id": "cust-123"}, content_type="application/json"
    ).json()["diagnosis_id"]

    response = operator_client.post(
        resolve_url(diagnosis_id),
        {"resolution": "Restarted WowMemory, retried from step 7"},
        content_type="application/json",
    )
    diagnosis = Diagnosis.objects.get(diagnosis_id=diagnosis_id)
    body = response.json()

    assert response.status_code == 200
    assert body["resolved"] is True
    assert body["resolution"] == "Restarted WowMemory, retried from step 7"
    assert body["resolved_by"] == "operator"
    assert diagnosis.resolved_at is not None
    assert diagnosis.resolved_by == operator


def test_resolve_twice_conflicts(operator_client):
    story_build()
    diagnosis_id = operator_client.post(
        DIAGNOSE_URL, {"customer_id": "cust-123"}, content_type="application/json"
    ).json()["diagnosis_id"]
    operator_client.post(
        resolve_url(diagnosis_id), {"resolution": "First"}, content_type="application/json"
    )

    response = operator_client.post(
        resolve_url(diagnosis_id), {"resolution": "Second"}, content_type="application/json"
    )

    assert response.status_code == 409
    assert Diagnosis.objects.get().resolution == "First"


def test_resolve_empty_reason_rejected(operator_client):
    story_build()
    diagnosis_id = operator_client.post(
        DIAGNOSE_URL, {"customer_id": "cust-123"}, content_type="application/json"
    ).json()["diagnosis_id"]

    response = operator_client.post(
        resolve_url(diagnosis_id), {"resolution": "   "}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json() == {
        "message": "Resolution is missing: say what fixed the problem.",
        "errors": [],
    }
    assert Diagnosis.objects.get().resolved_at is None


def test_resolve_unknown_diagnosis_404(operator_client):
    response = operator_client.post(
        resolve_url("diag-missing"), {"resolution": "Fixed"}, content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json() == {"message": "Diagnosis 'diag-missing' not found.", "errors": []}
