import os

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects every Content Security Policy violation the page reports.
CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation',"
    " event => console.log('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI))"
)


@pytest.fixture
def browser_page(chromium_path):
    """A Chromium page; Playwright's sync API runs an event loop, so Django must allow ORM use."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def test_docs_page_renders_offline(browser_page, live_server, django_user_model):
    from playwright.sync_api import expect

    django_user_model.objects.create_user(username="operator", password="operator-pass")
    console_messages: list[str] = []
    outside_requests: list[str] = []
    browser_page.on("console", lambda message: console_messages.append(message.text))
    browser_page.on("request", lambda request: outside_requests.append(request.url))
    browser_page.add_init_script(CSP_LISTENER)

    browser_page.goto(f"{live_server.url}/api/platform/helpdesk/docs")
    browser_page.get_by_label("Username").fill("operator")
    browser_page.get_by_label("Password").fill("operator-pass")
    browser_page.get_by_role("button", name="Log in").click()

    expect(browser_page.locator(".swagger-ui .info .title")).to_contain_text("Help desk API")
    expect(browser_page.locator(".opblock").first).to_be_visible()
    assert [url for url in outside_requests if not url.startswith(live_server.url)] == []
    assert [text for text in console_messages if text.startswith("CSP violation")] == []
