"""Search as you type on the dashboard, and the filtered timeline, in a real browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Agent, Customer
from telemetry.models import Interaction
from tests.factories import InteractionFactory, LogRecordFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "operator-demo"
# Older WowMemory timeouts added to the demo's three, so that the filtered timeline has more
# than one page of 25 entries.
EXTRA_TIMEOUTS = 30


def log_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")


def search_box(page):
    return page.locator("#dashboard-q")


def test_search_as_you_type_opens_customer(page, live_server, demo_world):
    log_in(page, live_server.url)

    search_box(page).press_sequentially("jon doe", delay=40)

    results = page.locator("#search-results [data-search-result]")
    expect(results.first).to_contain_text("John Doe")
    expect(results.first).to_contain_text("cust-123")
    assert page.url == f"{live_server.url}/"

    search_box(page).press("ArrowDown")
    expect(results.first).to_be_focused()
    expect(results.first).to_have_class(re.compile(r"\bis-active\b"))

    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/customers/cust-123/")
    expect(page.locator("h1")).to_have_text("John Doe")


def test_search_lists_same_name_customers(page, live_server, demo_world):
    log_in(page, live_server.url)

    search_box(page).press_sequentially("Maria Garcia", delay=40)

    results = page.locator("#search-results [data-search-result]")
    expect(results.filter(has_text="cust-2001")).to_have_count(1)
    expect(results.filter(has_text="cust-2002")).to_have_count(1)
    expect(results.filter(has_text="cust-2001")).to_contain_text("Maria Garcia")
    expect(results.filter(has_text="cust-2002")).to_contain_text("Maria Garcia")

    search_box(page).press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(results.nth(1)).to_be_focused()


def older_timeouts_add() -> None:
    customer = Customer.objects.get(customer_id="cust-123")
    memory = Agent.objects.get(name="WowMemory")
    start = timezone.now() - timedelta(days=2)
    for index in range(EXTRA_TIMEOUTS):
        interaction = InteractionFactory(
            customer=customer,
            agent=memory,
            operation="retrieve_context",
            status=Interaction.Status.TIMEOUT,
            error_type="TimeoutError",
            error_message="Database connection timeout after 30s",
            duration_ms=30_001,
            started_at=start - timedelta(minutes=index),
        )
        LogRecordFactory(interaction=interaction, body="Connection timeout", severity_text="ERROR")


def test_timeline_filters_page_and_logs(page, live_server, demo_world):
    older_timeouts_add()
    expected_total = Interaction.objects.filter(
        customer__customer_id="cust-123", agent__name="WowMemory", status="timeout"
    ).count()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/customers/cust-123/timeline/")

    agent_options = page.locator("#id_agent option")
    expect(agent_options).to_have_text(
        ["Any agent", "WowAPI", "WowCache", "WowDomain", "WowMemory", "WowOrchestrator"]
    )

    page.get_by_label("Agent").select_option("WowMemory")
    expect(page).to_have_url(re.compile(r"agent=WowMemory"))
    page.get_by_label("Status").select_option("timeout")
    expect(page).to_have_url(re.compile(r"agent=WowMemory.*status=timeout"))

    entries = page.locator("#timeline-entries > li.entry")
    expect(entries).to_have_count(25)
    assert set(entries.evaluate_all("items => items.map(item => item.dataset.agent)")) == {
        "WowMemory"
    }
    assert set(entries.evaluate_all("items => items.map(item => item.dataset.status)")) == {
        "timeout"
    }
    export = page.locator("#timeline-export")
    expect(export).to_have_attribute("href", re.compile(r"agent=WowMemory.*status=timeout"))

    page.get_by_role("link", name="Load older").click()
    expect(entries).to_have_count(expected_total)
    expect(page.get_by_role("link", name="Load older")).to_have_count(0)
    assert set(entries.evaluate_all("items => items.map(item => item.dataset.status)")) == {
        "timeout"
    }

    first = entries.first
    first.get_by_role("link", name="Show logs").click()
    log_lines = first.locator(".log-line")
    expect(log_lines.first).to_be_visible()
    expect(first.locator(".log-lines")).to_contain_text("Connection timeout")

    page.reload()
    expect(page.get_by_label("Agent")).to_have_value("WowMemory")
    expect(page.get_by_label("Status")).to_have_value("timeout")
    expect(entries).to_have_count(25)
