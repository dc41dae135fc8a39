import json

import pytest
from django.urls import reverse

from actions import services
from actions.models import QuickAction
from telemetry.models import Interaction
from tests.factories import AgentFactory, InteractionFactory, QuickActionFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def restart_url(agent="WowMemory"):
    return reverse("action-restart-confirm", args=["cust-123"]) + f"?agent={agent}"


def retry_url(from_step="7"):
    return (
        reverse("action-retry-confirm", args=["cust-123"])
        + f"?workflow_id=trial-wf-12345&from_step={from_step}"
    )


def test_restart_confirmation_states_scope(customer, operator_client):
    response = operator_client.get(restart_url())

    assert response.status_code == 200
    assert response.context["question"] == (
        "Restart WowMemory for customer cust-123? This will interrupt current operations."
    )
    content = response.content.decode()
    assert (
        "Restart WowMemory for customer cust-123? This will interrupt current operations."
        in content
    )
    assert "<html" in content
    assert 'name="reason"' in content
    assert ">Confirm</button>" in content
    assert ">Cancel</a>" in content


def test_retry_confirmation_states_scope(customer, operator_client):
    response = operator_client.get(retry_url())

    assert response.context["question"] == (
        "Retry workflow trial-wf-12345 for customer cust-123 from step 7 of 15?"
    )


def test_confirmation_fragment_for_htmx(customer, operator_client):
    response = operator_client.get(restart_url(), **HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert content.lstrip().startswith('<section class="quick-action-confirm"')
    assert response["Vary"] == "HX-Request, Cookie"


def test_confirmation_rejects_unknown_agent(customer, operator_client):
    response = operator_client.get(restart_url(agent="WowGhost"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Agent &#x27;WowGhost&#x27; is not known for customer cust-123." in content
    assert "quick-action-form" not in content


def test_confirmation_rejects_step_after_current(customer, operator_client):
    response = operator_client.get(retry_url(from_step="9"))

    assert response.context["param_errors"] == [
        "Step 9 is after the current step 7 of workflow trial-wf-12345; "
        "enter a step between 1 and 7."
    ]


def test_confirmation_unknown_customer_404(db, operator_client):
    response = operator_client.get(reverse("action-restart-confirm", args=["cust-404"]))

    assert response.status_code == 404


def test_confirmation_requires_login(customer, client):
    response = client.get(restart_url())

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_post_without_reason_rerenders(customer, operator_client):
    response = operator_client.post(restart_url(), {"agent": "WowMemory", "reason": "  "})

    content = response.content.decode()
    assert response.status_code == 200
    assert "A reason is required: say why this action is needed, for the audit." in content
    assert 'aria-invalid="true"' in content
    assert QuickAction.objects.count() == 0


def test_post_keeps_reason_on_error(customer, operator_client):
    reason = "x" * 1001

    response = operator_client.post(restart_url(), {"agent": "WowMemory", "reason": reason})

    assert response.context["reason"] == reason
    assert response.context["reason_error"] == (
        "The reason has 1001 characters; shorten it to at most 1000."
    )


def test_post_plain_redirects_to_action(customer, operator_client, operator):
    response = operator_client.post(restart_url(), {"agent": "WowMemory", "reason": "Pool full"})

    action = QuickAction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/actions/{action.action_id}/"
    assert action.requested_by == operator
    assert action.reason == "Pool full"


def test_post_htmx_returns_status_fragment(customer, operator_client):
    response = operator_client.post(
        retry_url(),
        {"workflow_id": "trial-wf-12345", "from_step": "7", "reason": "Restarted"},
        **HTMX,
    )

    action = QuickAction.objects.get()
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith(
        f'<section class="quick-action quick-action-pending" id="quick-action-{action.action_id}"'
    )
    assert 'hx-trigger="every 1s"' in content


def test_post_htmx_duplicate_shows_error(customer, operator_client, operator):
    QuickActionFactory(customer=customer, requested_by=operator)

    response = operator_client.post(
        restart_url(), {"agent": "WowMemory", "reason": "Again"}, **HTMX
    )

    assert response.status_code == 200
    assert "is already pending as act-" in response.content.decode()
    assert QuickAction.objects.count() == 1


def test_detail_polls_while_unfinished(customer, operator_client, operator):
    action = QuickActionFactory(customer=customer, requested_by=operator)

    response = operator_client.get(reverse("action-detail", args=[action.action_id]), **HTMX)

    content = response.content.decode()
    assert f'hx-get="/actions/{action.action_id}/?poll=1"' in content
    assert 'hx-trigger="every 1s"' in content
    assert "HX-Trigger" not in response.headers


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_detail_poll_stops_when_finished(customer, operator_client, operator, status):
    action = QuickActionFactory(customer=customer, requested_by=operator, status=status)

    response = operator_client.get(f"/actions/{action.action_id}/?poll=1", **HTMX)

    assert "hx-trigger" not in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {
        "quickActionFinished": {"action_id": action.action_id, "status": status}
    }


def test_detail_without_poll_sends_no_event(customer, operator_client, operator):
    action = QuickActionFactory(customer=customer, requested_by=operator, status="succeeded")

    response = operator_client.get(f"/actions/{action.action_id}/", **HTMX)

    assert "HX-Trigger" not in response.headers


def test_detail_page_shows_audit_and_error(customer, operator_client, operator):
    action = services.quick_action_request(
        customer=customer,
        kind="restart_agent",
        params={"agent": "WowMemory"},
        reason="<script>alert(1)</script>",
        requested_by=operator,
    )
    QuickAction.objects.filter(pk=action.pk).update(
        status="failed",
        error="Restart of WowMemory failed. Try again in a minute; if it fails again, "
        "escalate to engineering.",
    )

    response = operator_client.get(f"/actions/{action.action_id}/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert "Try again in a minute; if it fails again, escalate to engineering." in content
    assert '<table class="audit">' in content
    assert "<td>operator</td>" in content
    assert "<td>Requested</td>" in content


def test_detail_unknown_action_404(db, operator_client):
    response = operator_client.get("/actions/act-missing/")

    assert response.status_code == 404


def test_customer_actions_lists_recent(customer, operator_client, operator):
    action = QuickActionFactory(customer=customer, requested_by=operator)

    response = operator_client.get(reverse("customer-actions", args=["cust-123"]), **HTMX)

    content = response.content.decode()
    assert "<html" not in content
    assert f'href="/actions/{action.action_id}/"' in content
    assert "Restart WowMemory</a>" in content
    assert "Retry trial-wf-12345 from step 7</a>" in content


def test_customer_actions_list_part(customer, operator_client):
    response = operator_client.get("/customers/cust-123/actions/?part=list", **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<section class="quick-action-list"')
    assert "No quick actions for this customer yet." in content


def test_customer_actions_full_page(customer, operator_client):
    response = operator_client.get("/customers/cust-123/actions/")

    assert "<h1>Quick actions for cust-123</h1>" in response.content.decode()


def test_post_body_target_differs_rejected(customer, operator_client):
    response = operator_client.post(
        restart_url(agent="WowAPI"), {"agent": "WowMemory", "reason": "Pool full"}
    )

    assert response.status_code == 200
    assert response.context["param_errors"] == [
        "The confirmation was for agent 'WowAPI', but the form sent 'WowMemory', so nothing "
        "was run. Open the confirmation again from the customer overview."
    ]
    assert QuickAction.objects.count() == 0


def test_post_retry_step_differs_rejected(customer, operator_client):
    response = operator_client.post(
        retry_url(from_step="7"),
        {"workflow_id": "trial-wf-12345", "from_step": "1", "reason": "Restarted"},
    )

    assert response.context["param_errors"] == [
        "The confirmation was for from_step '7', but the form sent '1', so nothing was run. "
        "Open the confirmation again from the customer overview."
    ]
    assert QuickAction.objects.count() == 0


def test_post_uses_body_target_only(customer, operator_client):
    url = reverse("action-restart-confirm", args=["cust-123"])

    operator_client.post(url, {"agent": "WowCache", "reason": "Cache stale"})

    assert QuickAction.objects.get().params == {"agent": "WowCache"}


def test_confirmation_form_posts_to_bare_path(customer, operator_client):
    response = operator_client.get(restart_url(agent="WowAPI"))

    content = response.content.decode()
    assert response.context["form_url"] == "/customers/cust-123/actions/restart-agent/"
    assert 'action="/customers/cust-123/actions/restart-agent/"' in content
    assert '<input type="hidden" name="agent" value="WowAPI">' in content


@pytest.mark.parametrize("from_step", ["true", "7.0", "\u0667", "seven"])
def test_form_rejects_non_integer_step(customer, operator_client, from_step):
    response = operator_client.post(
        reverse("action-retry-confirm", args=["cust-123"]),
        {"workflow_id": "trial-wf-12345", "from_step": from_step, "reason": "Restarted"},
    )

    assert response.context["param_errors"] == [
        f"Step {from_step!r} is not a whole number; enter a step between 1 and 7."
    ]
    assert QuickAction.objects.count() == 0


def test_confirmation_rejects_boolean_step(customer, operator_client):
    response = operator_client.get(retry_url(from_step="true"))

    assert response.context["param_errors"] == [
        "Step 'true' is not a whole number; enter a step between 1 and 7."
    ]
    assert "quick-action-form" not in response.content.decode()


def test_confirm_button_disabled_while_running(customer, operator_client):
    response = operator_client.get(restart_url(), **HTMX)

    content = response.content.decode()
    assert 'hx-post="/customers/cust-123/actions/restart-agent/"' in content
    assert "hx-disabled-elt=\"find button[type='submit']\"" in content
    assert "data-disable-on-submit" in content
    assert '<span class="htmx-indicator running-indicator" role="status">' in content


def test_standalone_confirmation_posts_plain_form(customer, operator_client):
    response = operator_client.get(restart_url())

    content = response.content.decode()
    assert "hx-post" not in content
    assert "data-disable-on-submit" in content
    assert "Running… this can take a few seconds." in content


@pytest.mark.django_db(transaction=True)
def test_post_htmx_finished_announces_event(customer, operator_client, fake_platform):
    # Outside a test transaction the eager worker runs the action before the response.
    response = operator_client.post(
        reverse("action-restart-confirm", args=["cust-123"]),
        {"agent": "WowMemory", "reason": "Pool full"},
        **HTMX,
    )

    action = QuickAction.objects.get()
    content = response.content.decode()
    assert action.status == QuickAction.Status.SUCCEEDED
    assert "quick-action-succeeded" in content
    assert json.loads(response["HX-Trigger"]) == {
        "quickActionFinished": {"action_id": action.action_id, "status": "succeeded"}
    }


def test_detail_heading_states_outcome(customer, operator_client, operator):
    action = QuickActionFactory(customer=customer, requested_by=operator, status="succeeded")

    response = operator_client.get(f"/actions/{action.action_id}/")

    content = response.content.decode()
    assert (
        '<h2 class="quick-action-title">Restart of WowMemory for customer cust-123 succeeded</h2>'
        in content
    )
    assert "Confirm quick action" not in content
    assert (
        '<a class="button button-secondary" href="/customers/cust-123/">Back to John Doe</a>'
        in (content)
    )


def test_detail_links_retry_after_restart(customer, operator_client, operator):
    trial = customer.trials.get()
    trial.agents_involved = ["WowMemory", "WowOrchestrator"]
    trial.save(update_fields=["agents_involved"])
    action = QuickActionFactory(customer=customer, requested_by=operator, status="succeeded")

    response = operator_client.get(f"/actions/{action.action_id}/")

    assert (
        '<a class="button button-primary" href="/customers/cust-123/actions/retry-workflow/'
        '?workflow_id=trial-wf-12345&amp;from_step=7">Next: Retry trial-wf-12345 from step 7</a>'
    ) in response.content.decode()


def test_detail_next_retry_follows_failing_agent(customer, operator_client, operator):
    trial = customer.trials.get()
    trial.agents_involved = ["WowMemory", "WowCache"]
    trial.save(update_fields=["agents_involved"])
    InteractionFactory(
        customer=customer,
        agent=AgentFactory(name="WowCache"),
        trial=trial,
        workflow_step=7,
        status=Interaction.Status.TIMEOUT,
    )
    memory = QuickActionFactory(customer=customer, requested_by=operator, status="succeeded")
    cache = QuickActionFactory(
        customer=customer, requested_by=operator, status="succeeded", params={"agent": "WowCache"}
    )

    memory_page = operator_client.get(f"/actions/{memory.action_id}/")
    cache_page = operator_client.get(f"/actions/{cache.action_id}/")

    assert memory_page.context["next_retries"] == []
    assert cache_page.context["next_retries"] == [trial]


@pytest.mark.parametrize("status", ["pending", "running", "failed"])
def test_detail_no_next_unless_succeeded(customer, operator_client, operator, status):
    trial = customer.trials.get()
    trial.agents_involved = ["WowMemory"]
    trial.save(update_fields=["agents_involved"])
    action = QuickActionFactory(customer=customer, requested_by=operator, status=status)

    response = operator_client.get(f"/actions/{action.action_id}/")

    assert "Next: Retry" not in response.content.decode()


def test_detail_no_next_after_retry(customer, operator_client, operator):
    action = QuickActionFactory(
        customer=customer,
        requested_by=operator,
        status="succeeded",
        kind="retry_workflow",
        params={"workflow_id": "trial-wf-12345", "from_step": 7},
    )

    response = operator_client.get(f"/actions/{action.action_id}/")

    content = response.content.decode()
    assert "Next: Retry" not in content
    assert "Retry of workflow trial-wf-12345 from step 7 for customer cust-123 succeeded" in content
