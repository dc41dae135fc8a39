import re
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Agent, AgentAssignment, Trial
from tests.customers.story import story_build
from tests.factories import (
    AgentAssignmentFactory,
    CustomerFactory,
    InteractionFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page_text(response) -> str:
    return response.content.decode()


def entry_operations(response) -> list[str]:
    """Operations of the timeline entries shown, in page order, without the filter's list."""
    return re.findall(r'<span class="entry-operation mono">([^<]*)</span>', page_text(response))


# --- Dashboard ----------------------------------------------------------------------------


def test_dashboard_lists_stuck_customer(operator_client):
    story_build()

    response = operator_client.get("/")

    body = page_text(response)
    assert response.status_code == 200
    assert 'href="/customers/cust-123/"' in body
    assert "trial-wf-12345" in body
    assert "Step 7/15 (retrieve_context)" in body
    assert "10 min ago" in body


def test_dashboard_omits_healthy_customers(operator_client):
    customer = CustomerFactory(name="Quiet Customer")
    TrialFactory(customer=customer, status=Trial.Status.RUNNING)
    TrialFactory(customer=customer, status=Trial.Status.COMPLETED)

    response = operator_client.get("/")

    assert "Quiet Customer" not in page_text(response)
    assert "No customer has a stuck or failed trial." in page_text(response)


def test_dashboard_search_box_wired(operator_client):
    response = operator_client.get("/")

    body = page_text(response)
    assert 'action="/customers/search/"' in body
    assert 'hx-get="/customers/search/"' in body
    assert 'hx-trigger="input changed delay:250ms, search"' in body
    assert 'hx-target="#search-results"' in body


def test_dashboard_issues_poll_partial(operator_client):
    story_build()

    response = operator_client.get("/", **HTMX)

    body = page_text(response)
    assert body.lstrip().startswith('<section id="active-issues"')
    assert 'hx-trigger="every 15s"' in body
    assert "<html" not in body
    assert "cust-123" in body


def test_dashboard_history_restore_full_page(operator_client):
    response = operator_client.get(
        "/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in page_text(response)


# --- Search ---------------------------------------------------------------------------------


def test_search_single_exact_redirects(operator_client):
    story_build()

    response = operator_client.get("/customers/search/", {"q": "cust-123"})

    assert response.status_code == 302
    assert response["Location"] == "/customers/cust-123/"


def test_search_same_name_lists_all(operator_client):
    CustomerFactory(
        customer_id="cust-1", name="John Doe", email="john@acme.test", company="Acme Corp"
    )
    CustomerFactory(
        customer_id="cust-2", name="John Doe", email="john@globex.test", company="Globex"
    )

    response = operator_client.get("/customers/search/", {"q": "John Doe"})

    body = page_text(response)
    assert response.status_code == 200
    assert "2 results" in body
    assert 'href="/customers/cust-1/"' in body
    assert 'href="/customers/cust-2/"' in body
    assert "john@acme.test" in body
    assert "john@globex.test" in body
    assert "Globex" in body
    assert 'name: <span class="mono">John Doe</span>' in body


def test_search_no_results_message(operator_client):
    response = operator_client.get("/customers/search/", {"q": "zzqx-nothing-9"})

    body = page_text(response)
    assert response.status_code == 200
    assert "<strong>No results</strong>" in body
    assert "zzqx-nothing-9" in body


def test_search_blank_query_prompts(operator_client):
    response = operator_client.get("/customers/search/", {"q": "  "})

    assert "Enter a customer id, email, phone, trial id, name or company." in page_text(response)


def test_search_query_echo_escaped(operator_client):
    response = operator_client.get("/customers/search/", {"q": "<script>alert(1)</script>"})

    body = page_text(response)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_search_htmx_renders_results_only(operator_client):
    story_build()

    response = operator_client.get("/customers/search/", {"q": "cust-123"}, **HTMX)

    body = page_text(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert 'data-search-result href="/customers/cust-123/"' in body
    assert "Exact match" in body


# --- Overview -------------------------------------------------------------------------------


def test_overview_shows_story_customer(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert response.status_code == 200
    assert "John Doe" in body
    assert "john@example.com" in body
    assert "+1234567890" in body
    assert "Acme Corp" in body
    assert "eu-west-1" in body
    assert '<progress max="15" value="7"' in body
    assert "Step 7/15 (47%)" in body
    assert "STUCK" in body
    assert "WowMemory, WowOrchestrator" in body


def test_overview_shows_health_factors(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert '<span class="health-score">50</span>' in body
    assert "band-yellow" in body
    assert "degraded (yellow)" in body
    assert "trial_stuck" in body
    assert "recent_errors" in body


def test_overview_shows_agent_assignments(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert '<th scope="row">WowMemory</th>' in body
    assert 'href="/customers/cust-123/actions/restart-agent/?agent=WowMemory"' in body
    assert "Open tickets</dt><dd>0</dd>" in body
    assert "3 (1 active, 0 completed)" not in body
    assert "1 (1 active, 0 completed)" in body
    assert "2 (WowMemory, WowOrchestrator)" in body


def test_agent_status_explains_platform_status(operator_client):
    story = story_build()
    story.memory.status = Agent.Status.RUNNING
    story.memory.save()
    AgentAssignment.objects.filter(agent=story.memory).update(status=Agent.Status.DEGRADED)

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert '<span class="status-note">for this customer (platform-wide: running)</span>' in body
    assert "platform: RUNNING" not in body


def test_agent_status_alone_when_equal(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    assert "status-note" not in page_text(response)


def test_overview_links_retry_for_stuck_trial(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    assert (
        'href="/customers/cust-123/actions/retry-workflow/?workflow_id=trial-wf-12345&amp;from_step=7"'
        in page_text(response)
    )


def test_overview_embeds_panels_with_fallback(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert 'hx-get="/customers/cust-123/diagnosis/" hx-trigger="load"' in body
    assert '<a href="/customers/cust-123/diagnosis/">' in body
    assert 'hx-get="/customers/cust-123/actions/" hx-trigger="load"' in body
    assert '<a href="/customers/cust-123/actions/">' in body


def test_overview_embeds_recent_activity(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert "retrieve_context" in body
    assert "30002 ms (TIMEOUT)" in body
    assert 'href="/customers/cust-123/timeline/"' in body


def test_overview_unknown_customer_404(operator_client):
    response = operator_client.get("/customers/cust-missing/")

    assert response.status_code == 404
    assert "Customer &#x27;cust-missing&#x27; not found." in page_text(response)


@pytest.mark.parametrize("region", ["trials", "health", "agents"])
def test_overview_region_partial(operator_client, region):
    story_build()

    response = operator_client.get("/customers/cust-123/", {"region": region}, **HTMX)

    body = page_text(response)
    assert body.lstrip().startswith(f'<section id="{region}"')
    assert "<html" not in body


def test_overview_unknown_region_full_page(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/", {"region": "profile"}, **HTMX)

    assert "<html" in page_text(response)


def test_overview_stuck_trial_not_polled(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    assert "every 3s" not in page_text(response)


def test_overview_regions_refresh_after_action(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert body.count('hx-trigger="quickActionFinished from:body"') == 3
    for region in ("trials", "health", "agents"):
        assert (
            f'hx-get="/customers/cust-123/?region={region}" '
            'hx-trigger="quickActionFinished from:body" hx-swap="outerHTML"'
        ) in body


def test_overview_region_polls_after_retry(operator_client):
    story = story_build()
    stuck = operator_client.get("/customers/cust-123/", {"region": "trials"}, **HTMX)
    story.trial.status = Trial.Status.RUNNING
    story.trial.save()

    running = operator_client.get("/customers/cust-123/", {"region": "trials"}, **HTMX)

    assert 'hx-trigger="quickActionFinished from:body"' in page_text(stuck)
    assert 'hx-trigger="quickActionFinished from:body, every 3s"' in page_text(running)


def test_overview_running_trial_polls_regions(operator_client):
    story = story_build()
    story.trial.status = Trial.Status.RUNNING
    story.trial.save()

    response = operator_client.get("/customers/cust-123/")

    body = page_text(response)
    assert body.count('hx-trigger="quickActionFinished from:body, every 3s"') == 3
    assert 'hx-get="/customers/cust-123/?region=trials"' in body
    assert 'hx-get="/customers/cust-123/?region=health"' in body
    assert 'hx-get="/customers/cust-123/?region=agents"' in body


def test_overview_polling_stops_when_completed(operator_client):
    story = story_build()
    story.trial.status = Trial.Status.COMPLETED
    story.trial.save()

    response = operator_client.get("/customers/cust-123/", {"region": "trials"}, **HTMX)

    body = page_text(response)
    assert "every 3s" not in body
    assert '<progress max="15" value="15"' in body
    assert "Step 15/15 (100%)" in body


def test_overview_running_action_polls(operator_client, operator):
    from actions.models import QuickAction

    story = story_build()
    QuickAction.objects.create(
        customer=story.customer,
        kind=QuickAction.Kind.RESTART_AGENT,
        params={"agent": "WowMemory"},
        reason="Resolving timeout issue",
        requested_by=operator,
        status=QuickAction.Status.RUNNING,
    )

    response = operator_client.get("/customers/cust-123/", {"region": "health"}, **HTMX)

    body = page_text(response)
    assert 'hx-trigger="quickActionFinished from:body, every 3s"' in body
    assert "A quick action is in progress" in body


# --- Timeline -------------------------------------------------------------------------------


def test_timeline_lists_newest_first(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/")

    body = page_text(response)
    assert response.status_code == 200
    assert body.index("retrieve_context") < body.index("start_trial_workflow")
    assert body.index("start_trial_workflow") < body.index("store_context")


def test_timeline_entry_details(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/")

    body = page_text(response)
    assert "TIMEOUT" in body
    assert "Error (TimeoutError): Database connection timeout after 30s" in body
    assert "&quot;context_id&quot;: &quot;ctx-456&quot;" in body
    assert '<pre class="body">null</pre>' in body
    assert "85 ms" in body


def test_timeline_masks_secrets(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/")

    body = page_text(response)
    assert "s3cr3t" not in body
    assert "&quot;Authorization&quot;: &quot;***&quot;" in body


def test_timeline_times_in_operator_zone(operator_client):
    story = story_build()
    operator_client.cookies["operator_tz"] = "Asia/Kolkata"

    response = operator_client.get("/customers/cust-123/timeline/")

    local = timezone.localtime(story.timed_out.started_at, timezone=_zone("Asia/Kolkata"))
    assert local.strftime("%Y-%m-%d %H:%M:%S") in page_text(response)
    assert "IST" in page_text(response)


def _zone(name):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def test_timeline_filters_by_status(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/", {"status": "timeout"})

    assert entry_operations(response) == ["retrieve_context"]
    assert '<option value="timeout" selected>' in page_text(response)


def test_timeline_filters_by_agent(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/", {"agent": "WowOrchestrator"})

    assert entry_operations(response) == ["start_trial_workflow"]


def test_timeline_filters_by_range(operator_client):
    story = story_build()
    InteractionFactory(
        customer=story.customer,
        agent=story.memory,
        operation="old_lookup",
        started_at=timezone.now() - timedelta(days=3),
    )

    last_day = operator_client.get("/customers/cust-123/timeline/", {"range": "24h"})
    all_time = operator_client.get("/customers/cust-123/timeline/", {"range": "all"})

    assert "old_lookup" not in entry_operations(last_day)
    assert "retrieve_context" in entry_operations(last_day)
    assert "old_lookup" in entry_operations(all_time)


def test_timeline_invalid_filter_message(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/", {"status": "exploded"})

    body = page_text(response)
    assert response.status_code == 200
    assert "Some filters are invalid" in body
    assert "Status: Select a valid choice." in body


def test_timeline_invalid_cursor_message(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/", {"cursor": "garbage"})

    assert "Invalid cursor &#x27;garbage&#x27;" in page_text(response)


def test_timeline_load_older_pages(operator_client):
    customer = CustomerFactory(customer_id="cust-many")
    now = timezone.now()
    for minute in range(30):
        InteractionFactory(
            customer=customer,
            operation=f"op_{minute:02d}",
            started_at=now - timedelta(minutes=minute),
        )

    first = operator_client.get("/customers/cust-many/timeline/", {"status": "success"})
    older_link = first.context["older_query"]
    second = operator_client.get(f"/customers/cust-many/timeline/?{older_link}", **HTMX)

    first_body = page_text(first)
    second_body = page_text(second)
    assert entry_operations(first) == [f"op_{minute:02d}" for minute in range(25)]
    assert "Load older" in first_body
    assert "status=success" in older_link
    assert second_body.lstrip().startswith('<li class="entry')
    assert "op_25" in second_body
    assert "op_29" in second_body
    assert "op_24" not in second_body
    assert "Load older" not in second_body


def test_timeline_filter_htmx_results(operator_client):
    story_build()

    response = operator_client.get("/customers/cust-123/timeline/", {"status": "success"}, **HTMX)

    body = page_text(response)
    assert body.lstrip().startswith('<div id="timeline-results"')
    assert "<html" not in body


def test_timeline_filter_pushes_exact_url(operator_client):
    story_build()

    response = operator_client.get(
        "/customers/cust-123/timeline/",
        {"agent": "", "operation": "", "status": "timeout", "range": "all", "since": ""},
        **HTMX,
    )

    assert response["HX-Push-Url"] == "/customers/cust-123/timeline/?status=timeout&range=all"


def test_timeline_cleared_filters_push_path(operator_client):
    story_build()

    response = operator_client.get(
        "/customers/cust-123/timeline/", {"agent": "", "status": ""}, **HTMX
    )

    assert response["HX-Push-Url"] == "/customers/cust-123/timeline/"


def test_timeline_load_older_pushes_nothing(operator_client):
    story = story_build()
    for minute in range(30):
        InteractionFactory(
            customer=story.customer,
            agent=story.memory,
            operation=f"op_{minute:02d}",
            started_at=timezone.now() - timedelta(hours=1, minutes=minute),
        )
    first = operator_client.get("/customers/cust-123/timeline/", **HTMX)
    cursor = re.search(r"cursor=([^&\"]+)", page_text(first)).group(1)

    older = operator_client.get("/customers/cust-123/timeline/", {"cursor": cursor}, **HTMX)

    assert page_text(older).lstrip().startswith('<li class="entry')
    assert "HX-Push-Url" not in older.headers


def test_timeline_history_restore_full_page(operator_client):
    story_build()

    response = operator_client.get(
        "/customers/cust-123/timeline/",
        {"status": "timeout"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )

    body = page_text(response)
    assert "<html" in body
    assert '<option value="timeout" selected>' in body
    assert "HX-Push-Url" not in response.headers


def test_export_link_omits_empty_filters(operator_client):
    story_build()

    response = operator_client.get(
        "/customers/cust-123/timeline/", {"agent": "", "status": "timeout", "until": ""}
    )

    assert 'href="/customers/cust-123/timeline/export.json?status=timeout"' in page_text(response)


def test_timeline_unknown_customer_404(operator_client):
    response = operator_client.get("/customers/cust-missing/timeline/")

    assert response.status_code == 404


def test_logs_partial_expands(operator_client):
    story = story_build()
    url = f"/customers/cust-123/timeline/{story.timed_out.pk}/logs/"

    response = operator_client.get(url, **HTMX)

    body = page_text(response)
    assert body.lstrip().startswith('<details class="logs log-details" open>')
    assert body.index("Connecting to database...") < body.index("Connection timeout")
    assert "severity-error" in body


def test_logs_partial_collapses(operator_client):
    story = story_build()
    url = f"/customers/cust-123/timeline/{story.timed_out.pk}/logs/"

    response = operator_client.get(url, **HTMX)

    body = page_text(response)
    assert (
        '<summary><span class="when-open">Hide logs</span>'
        '<span class="when-closed">Show logs</span> <span class="muted">(2 lines)</span></summary>'
    ) in body
    assert body.rstrip().endswith("</details>")


def test_logs_page_without_javascript(operator_client):
    story = story_build()
    url = f"/customers/cust-123/timeline/{story.timed_out.pk}/logs/"

    response = operator_client.get(url)

    body = page_text(response)
    assert "<html" in body
    assert "Connecting to database..." in body
    assert "<details" not in body
    assert f'href="/customers/cust-123/timeline/#interaction-{story.timed_out.pk}"' in body


def test_timeline_links_logs_with_fallback(operator_client):
    story = story_build()
    url = f"/customers/cust-123/timeline/{story.timed_out.pk}/logs/"

    response = operator_client.get("/customers/cust-123/timeline/")

    body = page_text(response)
    assert f'<a href="{url}"' in body
    assert f'hx-get="{url}"' in body


def test_logs_of_other_customer_404(operator_client):
    story = story_build()
    CustomerFactory(customer_id="cust-other")

    response = operator_client.get(f"/customers/cust-other/timeline/{story.timed_out.pk}/logs/")

    assert response.status_code == 404


def test_logs_mask_secrets(operator_client):
    from tests.factories import LogRecordFactory

    story = story_build()
    LogRecordFactory(interaction=story.stored, body="Calling API with api_key=abc123")

    response = operator_client.get(f"/customers/cust-123/timeline/{story.stored.pk}/logs/")

    body = page_text(response)
    assert "abc123" not in body
    assert "api_key=***" in body


# --- Login ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/customers/search/?q=x", "/customers/cust-123/", "/customers/cust-123/timeline/"],
)
def test_pages_require_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_assignment_without_interactions_shows_never(operator_client):
    customer = CustomerFactory(customer_id="cust-new")
    AgentAssignmentFactory(customer=customer, last_interaction_at=None)

    response = operator_client.get("/customers/cust-new/")

    assert '<span class="muted">never</span>' in page_text(response)
