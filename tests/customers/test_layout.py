"""The shared page frame: favicon, htmx history settings and the CSRF failure page."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def htmx_config(response) -> dict:
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", response.content.decode())
    return json.loads(match.group(1))


def test_pages_link_svg_favicon(operator_client):
    response = operator_client.get("/")

    assert (
        '<link rel="icon" href="/static/helpdesk/favicon.svg" type="image/svg+xml">'
        in response.content.decode()
    )
    assert finders.find("helpdesk/favicon.svg") is not None


def test_favicon_is_svg_image():
    with open(finders.find("helpdesk/favicon.svg"), encoding="utf-8") as favicon:
        text = favicon.read()

    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<script" not in text


def test_history_reloads_instead_of_snapshot(operator_client):
    config = htmx_config(operator_client.get("/"))

    assert config["historyCacheSize"] == 0
    assert config["refreshOnHistoryMiss"] is True
    assert config["historyRestoreAsHxRequest"] is False
    assert config["includeIndicatorStyles"] is False


def test_csrf_failure_explains_reload(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(
        "/customers/cust-123/actions/restart-agent/", {"agent": "WowMemory", "reason": "r"}
    )

    body = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Form expired</h1>" in body
    assert "Your session expired or the form was stale: reload the page and try again." in body
    assert '<link rel="stylesheet" href="/static/helpdesk/css/app.css">' in body
    assert 'class="whoami">operator</span>' in body
    assert re.search(r'src="/static/helpdesk/js/app.js" nonce="[^"]+"', body)
