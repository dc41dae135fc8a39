import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from customers.forms import TimelineFilterForm
from customers.selectors import (
    duration_bucket,
    timeline_agent_names,
    timeline_operation_names,
)
from telemetry.models import Interaction
from tests.customers.story import story_build
from tests.factories import AgentFactory, CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

TIMELINE_URL = "/customers/cust-123/timeline/"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def entry_operations(response) -> list[str]:
    return re.findall(
        r'<span class="entry-operation mono">([^<]*)</span>', response.content.decode()
    )


def bound_form(query: str) -> TimelineFilterForm:
    return TimelineFilterForm.from_query(QueryDict(query), agent_names=["WowMemory"])


# --- Form ---------------------------------------------------------------------------------


def test_form_custom_range_operator_zone():
    with timezone.override(BERLIN):
        form = bound_form("range=custom&since=2026-03-02T10:00&until=2026-03-02T12:30")
        assert form.is_valid()
        since, until = form.time_bounds()

    assert since == datetime(2026, 3, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert until == datetime(2026, 3, 2, 11, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))


def test_form_bounds_without_range_custom():
    form = bound_form("since=2026-03-02T10:00")

    assert form.is_valid()
    assert form.cleaned_data["range"] == "custom"
    assert form.time_bounds()[1] is None


def test_form_preset_ignores_custom_bounds():
    now = timezone.now()
    form = bound_form("range=1h&since=2020-01-01T00:00&until=2020-01-02T00:00")

    assert form.is_valid()
    assert form.time_bounds(now=now) == (now - timedelta(hours=1), None)


def test_form_empty_query_all_time():
    form = bound_form("")

    assert form.is_valid()
    assert form.cleaned_data["range"] == "all"
    assert form.time_bounds() == (None, None)


def test_form_reversed_custom_range_invalid():
    form = bound_form("range=custom&since=2026-03-02T12:00&until=2026-03-02T10:00")

    assert form.is_valid() is False
    assert form.non_field_errors() == [
        "The custom range's From must be before its To; swap or correct the times."
    ]


def test_form_unparsable_time_invalid():
    form = bound_form("range=custom&since=yesterday")

    assert form.is_valid() is False
    assert "since" in form.errors


def test_form_selection_strips_operation():
    form = bound_form("agent=WowMemory&operation=+retrieve_context+&status=timeout")

    assert form.is_valid()
    assert form.selection() == {
        "agent": "WowMemory",
        "operation": "retrieve_context",
        "status": "timeout",
        "since": None,
        "until": None,
    }


# --- Selectors ----------------------------------------------------------------------------


def test_agent_names_include_unassigned_agents():
    story = story_build()
    InteractionFactory(customer=story.customer, agent=AgentFactory(name="WowCache"))
    InteractionFactory(agent=AgentFactory(name="WowElsewhere"))

    names = timeline_agent_names(customer=story.customer)

    assert names == ["WowCache", "WowMemory", "WowOrchestrator"]


def test_operation_names_distinct_sorted():
    story = story_build()

    names = timeline_operation_names(customer=story.customer)

    assert names == ["retrieve_context", "start_trial_workflow", "store_context"]


@pytest.mark.parametrize(
    ("duration_ms", "bucket"),
    [(0, 1), (1, 1), (85, 5), (1_000, 7), (5_000, 8), (30_002, 10), (60_000, 10), (900_000, 10)],
)
def test_duration_bucket_log_scale(duration_ms, bucket):
    assert duration_bucket(duration_ms=duration_ms) == bucket


# --- Page ---------------------------------------------------------------------------------


def test_timeline_filters_by_operation_text(operator_client):
    story_build()

    response = operator_client.get(TIMELINE_URL, {"operation": "Store"})

    assert entry_operations(response) == ["store_context"]
    assert 'value="Store"' in response.content.decode()


def test_timeline_lists_operations_for_datalist(operator_client):
    story_build()

    body = operator_client.get(TIMELINE_URL).content.decode()

    assert 'list="timeline-operations"' in body
    assert '<option value="retrieve_context"></option>' in body
    assert '<option value="start_trial_workflow"></option>' in body


def test_timeline_agent_filter_lists_seen_agents(operator_client):
    story = story_build()
    InteractionFactory(customer=story.customer, agent=AgentFactory(name="WowCache"))

    body = operator_client.get(TIMELINE_URL).content.decode()

    assert '<option value="WowCache">WowCache</option>' in body
    assert '<option value="WowMemory">WowMemory</option>' in body


def test_timeline_custom_range_in_operator_zone(operator_client):
    story = story_build()
    operator_client.cookies["operator_tz"] = "Europe/Berlin"
    moment = timezone.localtime(story.stored.started_at, timezone=BERLIN)
    query = {
        "range": "custom",
        "since": (moment - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        # The next interaction starts one minute later; the minute-truncated bound excludes it.
        "until": (moment + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
    }

    response = operator_client.get(TIMELINE_URL, query)

    assert entry_operations(response) == ["store_context"]
    assert f'value="{query["since"]}"' in response.content.decode()


def test_timeline_combined_filters(operator_client):
    story = story_build()
    InteractionFactory(
        customer=story.customer,
        agent=story.memory,
        operation="retrieve_context",
        status=Interaction.Status.TIMEOUT,
        started_at=timezone.now() - timedelta(days=3),
    )
    query = {"agent": "WowMemory", "operation": "retrieve", "status": "timeout", "range": "24h"}

    response = operator_client.get(TIMELINE_URL, query)

    assert entry_operations(response) == ["retrieve_context"]


def test_timeline_older_link_keeps_filters(operator_client):
    customer = CustomerFactory(customer_id="cust-many")
    now = timezone.now()
    for minute in range(30):
        InteractionFactory(
            customer=customer, operation="lookup", started_at=now - timedelta(minutes=minute)
        )

    response = operator_client.get(
        "/customers/cust-many/timeline/", {"operation": "look", "range": "7d"}
    )

    older = response.context["older_query"]
    assert "operation=look" in older
    assert "range=7d" in older
    assert "cursor=" in older


def test_timeline_reversed_range_message(operator_client):
    story_build()

    response = operator_client.get(
        TIMELINE_URL,
        {"range": "custom", "since": "2026-03-02T12:00", "until": "2026-03-02T10:00"},
    )

    body = response.content.decode()
    assert "Some filters are invalid" in body
    assert "From must be before its To" in body


def test_timeline_duration_bar_classes(operator_client):
    story_build()

    body = operator_client.get(TIMELINE_URL).content.decode()

    assert '<span class="duration-bar duration-w10 is-timeout"></span>' in body
    assert '<span class="duration-bar duration-w5"></span>' in body


def test_timeline_retry_badge(operator_client):
    story = story_build()
    story.timed_out.retry_count = 2
    story.timed_out.save(update_fields=["retry_count"])

    body = operator_client.get(TIMELINE_URL).content.decode()

    assert '<span class="badge badge-retry">2 retries</span>' in body


def test_timeline_page_has_no_inline_style(operator_client):
    story_build()

    body = operator_client.get(TIMELINE_URL).content.decode()

    assert "style=" not in body


# --- API ----------------------------------------------------------------------------------


def test_api_timeline_operation_filter(operator_client):
    story_build()

    response = operator_client.get(
        "/api/platform/helpdesk/customers/cust-123/timeline", {"operation": "start_trial"}
    )

    operations = [entry["operation"] for entry in response.json()["interactions"]]
    assert response.status_code == 200
    assert operations == ["start_trial_workflow"]
