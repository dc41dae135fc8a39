"""Names, bodies and errors from customers and agents render as text on every page."""

import pytest

from customers.models import Trial
from tests.factories import (
    AgentAssignmentFactory,
    AgentFactory,
    CustomerFactory,
    InteractionFactory,
    LogRecordFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
MARKUP = '<img src=x onerror="alert(2)">'


@pytest.fixture
def hostile_customer():
    customer = CustomerFactory(
        customer_id="cust-xss",
        name=SCRIPT,
        email="xss@example.com",
        company=MARKUP,
        metadata={"note": SCRIPT},
    )
    agent = AgentFactory(name="WowHostile")
    AgentAssignmentFactory(customer=customer, agent=agent)
    trial = TrialFactory(
        customer=customer,
        status=Trial.Status.STUCK,
        step_name=SCRIPT,
        status_detail=MARKUP,
    )
    interaction = InteractionFactory(
        customer=customer,
        agent=agent,
        trial=trial,
        operation=SCRIPT,
        request_body=f'{{"text": "{MARKUP.replace(chr(34), chr(39))}"}}',
        response_body=SCRIPT,
        status="failed",
        error_message=SCRIPT,
    )
    LogRecordFactory(interaction=interaction, body=SCRIPT)
    return customer, interaction


def assert_inert(body: str) -> None:
    assert SCRIPT not in body
    assert "<img src=x" not in body
    assert ESCAPED_SCRIPT in body


def test_dashboard_escapes_customer_name(operator_client, hostile_customer):
    response = operator_client.get("/")

    assert_inert(response.content.decode())


def test_search_escapes_customer_name(operator_client, hostile_customer):
    response = operator_client.get("/customers/search/", {"q": "xss@example.com"}, follow=False)
    htmx_response = operator_client.get(
        "/customers/search/", {"q": "xss@example.com"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 302
    assert_inert(htmx_response.content.decode())


def test_overview_escapes_everything(operator_client, hostile_customer):
    response = operator_client.get("/customers/cust-xss/")

    body = response.content.decode()
    assert_inert(body)
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in body


def test_timeline_escapes_bodies(operator_client, hostile_customer):
    response = operator_client.get("/customers/cust-xss/timeline/")

    body = response.content.decode()
    assert_inert(body)
    assert "&lt;img src=x onerror=&#x27;alert(2)&#x27;&gt;" in body


def test_logs_escape_log_body(operator_client, hostile_customer):
    _customer, interaction = hostile_customer

    response = operator_client.get(f"/customers/cust-xss/timeline/{interaction.pk}/logs/")

    assert_inert(response.content.decode())


def test_pages_send_strict_csp(operator_client, hostile_customer):
    response = operator_client.get("/customers/cust-xss/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    "url",
    ["/", "/customers/cust-xss/", "/customers/cust-xss/timeline/", "/customers/search/?q=x"],
)
def test_pages_have_no_inline_styles(operator_client, hostile_customer, url):
    body = operator_client.get(url).content.decode()

    assert " style=" not in body
    assert "<style" not in body
    assert " onclick=" not in body
