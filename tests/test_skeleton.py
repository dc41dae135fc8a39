import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "ok"


@pytest.mark.django_db
def test_dashboard_redirects_anonymous_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


@pytest.mark.django_db
def test_openapi_document_served(operator_client):
    response = operator_client.get("/api/platform/helpdesk/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Help desk API"


@pytest.mark.django_db
def test_openapi_document_requires_login(client):
    response = client.get("/api/platform/helpdesk/openapi.json")

    assert response.status_code == 401
