"""The system diagnosis page in a real browser: an operator finds the service that broke."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.diagnostics.test_system import WINDOW_START, calls_create
from tests.e2e.test_main_job import DEMO_PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_finds_the_broken_service(live_server, page):
    get_user_model().objects.create_user(username="operator", password=DEMO_PASSWORD)
    calls_create(start=WINDOW_START - dt.timedelta(hours=1), count=20, logs_line_372=True)
    calls_create(start=WINDOW_START, count=20, logs_line_372=False)
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/issues/")
    page.get_by_role("link", name="Diagnose the whole system").click()
    page.get_by_label("Window").select_option("15 minutes")
    page.get_by_label("Ending at").fill("2023-01-29T10:40")
    page.get_by_label("Compared with").select_option("The hour before the window")
    page.get_by_role("button", name="Diagnose").click()
    page.wait_for_url("**/issues/system/?window=15m*")

    first = page.locator(".system-suspect").first
    expect(first.locator(".suspect-service")).to_have_text("ts-travel2-service")
    expect(first.locator(".suspect-evidence li").first).to_have_text(
        'ts-travel2-service: 16 of 16 calls that logged t.s.TravelServiceImpl#366 "[query][Query '
        'trips]" did not log t.s.TravelServiceImpl#372 "[query][Trips returned]" (the baseline '
        "allows about 3.1)"
    )
    expect(page.locator(".diagnosis-meta")).to_contain_text(
        "Checked 16 service calls against 16 in the baseline, which taught 4 patterns."
    )
