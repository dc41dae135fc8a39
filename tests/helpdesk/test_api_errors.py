import pytest
from django.test import Client

from helpdesk.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db

API = "/api/platform/helpdesk"
DEEP_BODY = "[" * 100_000 + "]" * 100_000
NESTING_MESSAGE = (
    "The request body nests deeper than 64 levels: "
    "send JSON with at most 64 levels of nested arrays and objects."
)
CSRF_MESSAGE = (
    "CSRF token missing or invalid: send the X-CSRFToken header from the csrftoken cookie, "
    "or use an API token."
)


def token_for(user) -> str:
    raw_token = ApiToken.generate_raw_token()
    ApiToken.objects.create(user=user, token_hash=hash_token(raw_token), prefix=raw_token[:8])
    return raw_token


def test_deep_body_answers_400(operator_client):
    response = operator_client.post(f"{API}/diagnose", DEEP_BODY, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"message": NESTING_MESSAGE, "errors": []}


def test_deep_body_below_limit_rejected(operator_client):
    body = '{"customer_id": "cust-1", "issue_description": ' + "[" * 65 + "]" * 65 + "}"

    response = operator_client.post(f"{API}/diagnose", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"] == NESTING_MESSAGE


def test_brackets_inside_strings_ignored(operator_client):
    body = '{"customer_id": "cust-missing", "issue_description": "' + "[" * 100 + '"}'

    response = operator_client.post(f"{API}/diagnose", body, content_type="application/json")

    assert response.status_code == 404


def test_deep_body_to_hand_parsed_endpoint(client):
    # The events endpoint reads its body itself, so json.loads raises RecursionError there.
    response = client.post(
        f"{API}/ingest/events",
        DEEP_BODY,
        content_type="application/json",
        headers={"Authorization": "Bearer demo-ingest-token"},
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"message": NESTING_MESSAGE, "errors": []}


def test_invalid_json_says_what_to_send(operator_client):
    response = operator_client.post(f"{API}/diagnose", "{bad", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "message": (
            "The request body is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1). "
            "Send a JSON object with Content-Type: application/json."
        ),
        "errors": [],
    }


def test_validation_errors_list_fields(operator_client):
    response = operator_client.post(
        f"{API}/diagnose",
        {"customer_id": 5, "issue_description": []},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json() == {
        "message": "The request is invalid; see errors for each field.",
        "errors": [
            {"field": "customer_id", "message": "Input should be a valid string"},
            {"field": "issue_description", "message": "Input should be a valid string"},
        ],
    }


def test_query_validation_error_names_parameter(operator_client):
    response = operator_client.get(f"{API}/customers/cust-1/timeline", {"limit": "many"})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "limit",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]


def test_http_error_has_empty_errors(operator_client):
    response = operator_client.get(f"{API}/active-issues", {"limit": 0})

    assert response.status_code == 422
    assert response.json() == {
        "message": "limit 0 is out of range: use 1 to 200.",
        "errors": [],
    }


def test_not_found_has_empty_errors(operator_client):
    response = operator_client.get(f"{API}/diagnoses/diag-missing")

    assert response.status_code == 404
    assert response.json() == {"message": "Diagnosis 'diag-missing' not found.", "errors": []}


def test_wrong_method_answers_json_405(operator_client):
    response = operator_client.put(f"{API}/diagnose", "{}", content_type="application/json")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "POST"
    assert response.json() == {
        "message": "Method PUT is not allowed on /api/platform/helpdesk/diagnose: use POST.",
        "errors": [],
    }


def test_unknown_api_path_answers_json_404(operator_client):
    response = operator_client.get(f"{API}/no-such-endpoint")

    assert response.status_code == 404
    assert response.json() == {
        "message": (
            "No API endpoint at /api/platform/helpdesk/no-such-endpoint: the OpenAPI document "
            "at /api/platform/helpdesk/openapi.json lists every endpoint."
        ),
        "errors": [],
    }


def test_api_root_answers_json_404(operator_client):
    response = operator_client.get(f"{API}/")

    assert response.status_code == 404
    assert response.json()["message"].startswith("No API endpoint at /api/platform/helpdesk/:")
    assert response.json()["errors"] == []


def test_anonymous_post_answers_401(client):
    response = Client(enforce_csrf_checks=True).post(
        f"{API}/diagnose",
        {"customer_id": "cust-1", "issue_description": "stuck"},
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication required: send 'Authorization: Bearer TOKEN' or log in.",
        "errors": [],
    }


def test_session_without_csrf_answers_403(operator):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(operator)

    response = csrf_client.post(
        f"{API}/diagnose",
        {"customer_id": "cust-missing", "issue_description": "stuck"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json() == {"message": CSRF_MESSAGE, "errors": []}


def test_session_with_csrf_token_passes(operator):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(operator)
    csrf_secret = "a" * 32
    csrf_client.cookies["csrftoken"] = csrf_secret

    response = csrf_client.post(
        f"{API}/diagnose",
        {"customer_id": "cust-missing", "issue_description": "stuck"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf_secret},
    )

    assert response.status_code == 404


def test_bearer_token_needs_no_csrf(operator):
    raw_token = token_for(operator)

    response = Client(enforce_csrf_checks=True).post(
        f"{API}/diagnose",
        {"customer_id": "cust-missing", "issue_description": "stuck"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_token}"},
    )

    assert response.status_code == 404


def test_openapi_requires_authentication(client):
    response = client.get(f"{API}/openapi.json")

    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication required: send 'Authorization: Bearer TOKEN' or log in.",
        "errors": [],
    }


def test_openapi_served_for_bearer_token(client, operator):
    raw_token = token_for(operator)

    response = client.get(f"{API}/openapi.json", headers={"Authorization": f"Bearer {raw_token}"})

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Help desk API"


def test_openapi_rejects_unknown_token(client):
    response = client.get(f"{API}/openapi.json", headers={"Authorization": "Bearer hd_wrong"})

    assert response.status_code == 401


def test_docs_redirects_anonymous_to_login(client):
    response = client.get(f"{API}/docs")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/platform/helpdesk/docs"


def test_docs_page_uses_local_assets(operator_client):
    response = operator_client.get(f"{API}/docs")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html
    assert '<script src="/static/ninja/swagger-ui-init.js">' in html
    assert 'href="/static/ninja/swagger-ui.css"' in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize(
    "path", ["ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"]
)
def test_docs_assets_served_locally(client, path):
    response = client.get(f"/static/{path}")

    assert response.status_code == 200
