"""Recovery: a diagnosis after the fix reports the problem resolved, with the steps done."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Agent, AgentAssignment, Trial
from diagnostics.models import Diagnosis
from diagnostics.services import diagnosis_create
from telemetry.models import Alert, Interaction
from tests.diagnostics.factories import (
    DATABASE_TIMEOUT,
    agents_build,
    alert_build,
    failed_call_build,
    pool_samples_build,
    story_build,
    story_recover,
)
from tests.factories import CustomerFactory, QuickActionFactory, TrialFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
DIAGNOSE_URL = "/api/platform/helpdesk/diagnose"


def clock(moment) -> str:
    return f"{moment:%H:%M} UTC"


def panel_url(customer_id: str = "cust-123") -> str:
    return reverse("diagnosis-panel", kwargs={"customer_id": customer_id})


def test_recovered_story_reports_resolved(operator):
    customer = story_build()
    trial = story_recover(customer=customer, operator=operator)
    restart = customer.quick_actions.get(kind="restart_agent")

    result = diagnosis_create(customer=customer).result
    recovery = result["recovery"]

    assert result["status"] == "resolved"
    assert result["kind"] == "db_pool_exhaustion"
    assert result["root_cause"]["ongoing"] is False
    assert recovery["summary"] == (
        f"Resolved: WowMemory recovered after a restart at {clock(restart.finished_at)}; "
        "trial-wf-12345 completed"
    )
    assert recovery["restarted_at"] == restart.finished_at.isoformat()
    assert recovery["completed_trials"] == [trial.trial_id]
    assert (
        f"WowMemory restarted at {clock(restart.finished_at)} by quick action "
        f"{restart.action_id} (operator)" in recovery["evidence"]
    )


def test_recovered_story_steps_done_by_actions(operator):
    customer = story_build()
    story_recover(customer=customer, operator=operator)
    restart = customer.quick_actions.get(kind="restart_agent")
    retry = customer.quick_actions.get(kind="retry_workflow")

    steps = diagnosis_create(customer=customer).result["resolution_steps"]

    assert [step["action"] for step in steps] == [
        "Check database health",
        "Restart WowMemory agent",
        "Retry workflow from Step 7",
    ]
    assert [step["status"] for step in steps] == ["completed", "completed", "completed"]
    assert steps[1]["done_by"]["action_id"] == restart.action_id
    assert steps[1]["result"] == (
        f"Done by quick action {restart.action_id} (operator) at {clock(restart.finished_at)}"
    )
    assert steps[2]["done_by"]["action_id"] == retry.action_id
    assert steps[2]["params"] == {"workflow_id": "trial-wf-12345", "from_step": 7}


def test_restart_span_alone_counts(operator):
    customer = story_build()
    story_recover(customer=customer, operator=operator, restart_via_action=False)

    result = diagnosis_create(customer=customer).result
    restart_step = result["resolution_steps"][1]

    assert result["status"] == "resolved"
    assert restart_step["status"] == "completed"
    assert restart_step["result"].startswith("Restarted at ")
    assert "done_by" not in restart_step


def test_restart_without_retry_keeps_ongoing(operator):
    customer = story_build()
    QuickActionFactory(
        customer=customer,
        requested_by=operator,
        status="succeeded",
        finished_at=timezone.now() - timedelta(minutes=1),
    )

    result = diagnosis_create(customer=customer).result
    steps = result["resolution_steps"]

    assert result["status"] == "ongoing"
    assert result["recovery"] is None
    assert steps[1]["status"] == "completed"
    assert steps[2]["status"] == "pending"
    assert steps[2]["quick_action"] == "retry_workflow"


def test_errors_after_restart_stay_ongoing(operator):
    customer = story_build()
    QuickActionFactory(
        customer=customer,
        requested_by=operator,
        status="succeeded",
        finished_at=timezone.now() - timedelta(minutes=5),
    )
    customer.trials.update(status=Trial.Status.COMPLETED, completed_at=timezone.now())

    result = diagnosis_create(customer=customer).result

    assert result["status"] == "ongoing"
    assert result["root_cause"]["ongoing"] is True


def test_failed_quick_action_keeps_step_pending(operator):
    customer = story_build()
    failed = QuickActionFactory(
        customer=customer,
        requested_by=operator,
        status="failed",
        finished_at=timezone.now() - timedelta(minutes=1),
    )

    restart_step = diagnosis_create(customer=customer).result["resolution_steps"][1]

    assert restart_step["status"] == "pending"
    assert restart_step["result"] == f"Quick action {failed.action_id} failed"


def test_pool_back_under_threshold_resolves():
    customer = story_build()
    memory = Agent.objects.get(name="WowMemory")
    customer.trials.update(status=Trial.Status.COMPLETED, completed_at=timezone.now())
    Interaction.objects.filter(status=Interaction.Status.TIMEOUT).update(
        started_at=timezone.now() - timedelta(minutes=20)
    )
    pool_samples_build(agent=memory, used=20)

    result = diagnosis_create(customer=customer).result

    assert result["status"] == "resolved"
    assert (
        "Database connections: 20/100 (20%) on WowMemory, under the 80% threshold"
        in result["recovery"]["evidence"]
    )


def test_resolved_alert_counts_as_recovery():
    agents = agents_build()
    customer = CustomerFactory(customer_id="cust-alert")
    failed_call_build(
        customer=customer,
        agent=agents["WowMemory"],
        message=DATABASE_TIMEOUT,
        started_at=timezone.now() - timedelta(minutes=30),
        status=Interaction.Status.TIMEOUT,
    )
    alert = alert_build(name="WowMemoryPoolExhausted", agent=agents["WowMemory"])
    ended_at = timezone.now() - timedelta(minutes=10)
    Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.RESOLVED, ends_at=ended_at)

    result = diagnosis_create(customer=customer).result

    assert result["status"] == "resolved"
    assert (
        f"Alert WowMemoryPoolExhausted resolved at {clock(ended_at)}"
        in (result["recovery"]["evidence"])
    )


def test_old_failed_trial_not_ongoing(settings):
    settings.HELPDESK_FAILED_TRIAL_MAX_AGE_HOURS = 24
    customer = CustomerFactory(customer_id="cust-old")
    long_ago = timezone.now() - timedelta(hours=30)
    TrialFactory(
        customer=customer,
        status=Trial.Status.FAILED,
        status_detail="Validation failed: malformed payload",
        started_at=long_ago,
    )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] != "none"
    assert result["root_cause"]["ongoing"] is False


def test_recent_failed_trial_ongoing():
    customer = CustomerFactory(customer_id="cust-new")
    TrialFactory(
        customer=customer,
        status=Trial.Status.FAILED,
        status_detail="Validation failed: malformed payload",
        started_at=timezone.now() - timedelta(hours=2),
    )

    result = diagnosis_create(customer=customer).result

    assert result["root_cause"]["ongoing"] is True


# The panel and the API


def test_panel_reuse_ends_after_action(operator_client, operator):
    customer = story_build()
    operator_client.get(panel_url())
    story_recover(customer=customer, operator=operator)

    html = operator_client.get(panel_url(), headers=HTMX).content.decode()

    assert Diagnosis.objects.count() == 2
    assert "Resolved: WowMemory recovered after a restart at" in html
    assert "trial-wf-12345 completed" in html
    assert "Past cause" in html
    assert "Mark resolved" in html
    assert "step-quick-action" not in html
    assert "stuck at Step 7" not in html.split("Past cause")[0]


def test_panel_reuse_ends_on_trial_change(operator_client):
    customer = story_build()
    operator_client.get(panel_url())
    customer.trials.update(status=Trial.Status.RUNNING)

    operator_client.get(panel_url())

    assert Diagnosis.objects.count() == 2


def test_panel_reuse_ends_on_agent_change(operator_client):
    customer = story_build()
    operator_client.get(panel_url())
    AgentAssignment.objects.filter(customer=customer, agent__name="WowMemory").update(
        status="RESTARTING"
    )

    operator_client.get(panel_url())

    assert Diagnosis.objects.count() == 2


def test_panel_reuse_ends_on_restart_span(operator_client, operator):
    customer = story_build()
    operator_client.get(panel_url())
    story_recover(customer=customer, operator=operator, restart_via_action=False)
    customer.quick_actions.all().delete()
    Trial.objects.filter(customer=customer).update(status=Trial.Status.STUCK)

    operator_client.get(panel_url())

    assert Diagnosis.objects.count() == 2


def test_panel_reuse_kept_without_change(operator_client):
    story_build()
    operator_client.get(panel_url())

    operator_client.get(panel_url())

    assert Diagnosis.objects.count() == 1


def test_resolved_panel_marks_past_issue(operator_client, operator):
    customer = story_build()
    story_recover(customer=customer, operator=operator)
    operator_client.get(panel_url())
    diagnosis = Diagnosis.objects.get()
    url = reverse(
        "diagnosis-resolve",
        kwargs={"customer_id": "cust-123", "diagnosis_id": diagnosis.diagnosis_id},
    )
    panel = operator_client.get(panel_url(), headers=HTMX).content.decode()

    operator_client.post(url, {"resolution": diagnosis.result["recovery"]["summary"]})
    diagnosis.refresh_from_db()

    assert f'value="{diagnosis.result["recovery"]["summary"]}"' in panel
    assert diagnosis.resolved_at is not None
    assert diagnosis.resolution.startswith("Resolved: WowMemory recovered")


def test_api_diagnose_after_recovery(operator_client, operator):
    customer = story_build()
    story_recover(customer=customer, operator=operator)

    body = operator_client.post(
        DIAGNOSE_URL, {"customer_id": "cust-123"}, content_type="application/json"
    ).json()
    statuses = [step["status"] for step in body["resolution_steps"]]

    assert body["status"] == "resolved"
    assert body["recovery"]["summary"].startswith("Resolved: WowMemory recovered after a restart")
    assert body["root_cause"]["ongoing"] is False
    assert "pending" not in statuses
    assert body["resolution_steps"][1]["done_by"]["requested_by"] == "operator"


def test_saturated_pool_before_restart_resolves(operator):
    customer = story_build()
    memory = Agent.objects.get(name="WowMemory")
    pool_samples_build(agent=memory, used=95, timestamp=timezone.now() - timedelta(minutes=4))
    story_recover(customer=customer, operator=operator, restart_via_action=False)

    result = diagnosis_create(customer=customer).result

    assert result["status"] == "resolved"
    assert result["root_cause"]["ongoing"] is False


def test_saturated_pool_after_restart_stays_ongoing(operator):
    customer = story_build()
    memory = Agent.objects.get(name="WowMemory")
    story_recover(customer=customer, operator=operator, restart_via_action=False)
    pool_samples_build(agent=memory, used=95, timestamp=timezone.now() - timedelta(seconds=30))

    result = diagnosis_create(customer=customer).result

    assert result["status"] == "ongoing"
    assert result["root_cause"]["ongoing"] is True
