import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects every Content Security Policy violation the page reports.
CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation',"
    " event => console.log('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI))"
)


def test_docs_page_renders_offline(page, live_server, django_user_model):
    from playwright.sync_api import expect

    django_user_model.objects.create_user(username="operator", password="operator-pass")
    console_messages: list[str] = []
    outside_requests: list[str] = []
    page.on("console", lambda message: console_messages.append(message.text))
    page.on("request", lambda request: outside_requests.append(request.url))
    page.add_init_script(CSP_LISTENER)

    page.goto(f"{live_server.url}/api/platform/helpdesk/docs")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("operator-pass")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Help desk API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert [url for url in outside_requests if not url.startswith(live_server.url)] == []
    assert [text for text in console_messages if text.startswith("CSP violation")] == []
