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


def test_healthz_answers_503_without_schema(client):
    # SQLite recreates a removed database file empty. Renaming the table inside the test's
    # transaction likewise leaves a database where SELECT 1 succeeds but the customer table is
    # missing.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE customers_customer RENAME TO customers_customer_moved")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {
        "status": "unavailable",
        "error": "schema missing: run manage.py migrate",
    }
