from unittest import mock

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["database"]["status"] == "ok"


def test_healthz_answers_503_without_database(client):
    # The database is outside the product; a refused connection is simulated at the driver edge.
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"status": "unavailable", "error": "OperationalError"}


def test_healthz_rejects_post(client):
    response = client.post("/healthz")

    assert response.status_code == 405
