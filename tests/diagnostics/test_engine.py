from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Agent, Trial
from diagnostics.detectors import findings_detect
from diagnostics.evidence import MetricReading, StepActivity, evidence_collect
from diagnostics.reasoning import conclusion_reach
from diagnostics.services import diagnosis_create, diagnosis_resolve
from telemetry.models import Interaction
from tests.diagnostics.factories import (
    DATABASE_TIMEOUT,
    DiagnosisFactory,
    agents_build,
    failed_call_build,
    healthy_build,
    story_build,
)
from tests.factories import (
    AgentAssignmentFactory,
    CustomerFactory,
    InteractionFactory,
    TrialFactory,
)

pytestmark = pytest.mark.django_db


def kinds_of(entries: list[dict]) -> list[str]:
    return [entry["kind"] for entry in entries]


def test_story_names_database_pool():
    result = diagnosis_create(customer=story_build()).result
    root_cause = result["root_cause"]

    assert result["kind"] == "db_pool_exhaustion"
    assert root_cause["summary"] == "Database connection timeout in WowMemory"
    assert root_cause["affected_component"] == "WowMemory"
    assert root_cause["workflow_id"] == "trial-wf-12345"
    assert root_cause["stuck_step"] == 7
    assert root_cause["confidence"] == 0.9
    assert root_cause["confidence_band"] == "high"
    assert result["recommended_playbook"] == "playbook-trial-stuck-init"


def test_story_evidence_reads_like_story():
    evidence = diagnosis_create(customer=story_build()).result["root_cause"]["evidence"]

    assert "WowMemory error logs: 'Connection timeout after 30s' (3 records)" in evidence
    assert "Timeouts: 3 of 4 retrieve_context calls to WowMemory in the last hour" in evidence
    assert "Workflow trial-wf-12345 stuck at Step 7/15 (47%) for 12 min" in evidence
    assert f"WowMemory errors: '{DATABASE_TIMEOUT}' (3 calls)" in evidence
    assert evidence[-1] == "Impact: 1 customer affected"


def test_story_resolution_steps():
    steps = diagnosis_create(customer=story_build()).result["resolution_steps"]

    assert [step["step"] for step in steps] == [1, 2, 3]
    assert steps[0]["action"] == "Check database health"
    assert steps[0]["status"] == "completed"
    assert steps[0]["result"] == (
        "Timeouts: 3 of 4 retrieve_context calls to WowMemory in the last hour (degraded)"
    )
    assert "quick_action" not in steps[0]
    assert steps[1]["action"] == "Restart WowMemory agent"
    assert steps[1]["status"] == "pending"
    assert steps[1]["quick_action"] == "restart_agent"
    assert steps[1]["params"] == {"agent": "WowMemory"}
    assert steps[2]["action"] == "Retry workflow from Step 7"
    assert steps[2]["status"] == "pending"
    assert steps[2]["quick_action"] == "retry_workflow"
    assert steps[2]["params"] == {"workflow_id": "trial-wf-12345", "from_step": 7}


def test_story_alternatives_and_rejected():
    result = diagnosis_create(customer=story_build()).result
    alternative = result["alternatives"][0]
    rejected = {entry["kind"]: entry for entry in result["rejected"]}

    assert kinds_of(result["alternatives"]) == ["dependency_timeout"]
    assert alternative["confidence"] == 0.44
    assert alternative["evidence_against"] == [
        "Error text names the database, which database pool exhaustion explains more specifically"
    ]
    assert len(result["rejected"]) == 10
    assert rejected["agent_crash"]["evidence_against"] == [
        "No agent is down or restarting and no error text reports a crash"
    ]
    assert rejected["bad_deploy"]["evidence_against"] == [
        "No agent version changed shortly before the errors"
    ]


def test_story_first_symptom_is_first_timeout():
    customer = story_build()
    first_timeout = customer.interactions.filter(status="timeout").order_by("started_at").first()

    root_cause = diagnosis_create(customer=customer).result["root_cause"]

    assert root_cause["first_symptom"]["text"] == (
        f"First timeout: retrieve_context call to WowMemory at "
        f"{first_timeout.started_at:%Y-%m-%d %H:%M:%S} UTC "
        "('Database connection timeout after 30s')"
    )
    assert root_cause["first_symptom"]["observed_at"] == first_timeout.started_at.isoformat()


def test_story_cause_apart_from_symptom():
    root_cause = diagnosis_create(customer=story_build()).result["root_cause"]

    assert root_cause["cause"]["text"] == (
        "WowMemory's database connection pool is exhausted, so calls wait for a connection "
        "until they time out"
    )
    assert root_cause["cause"]["evidence"] == (
        "WowMemory error logs: 'Connection timeout after 30s' (3 records)"
    )
    assert root_cause["impact"]["trial_ids"] == ["trial-wf-12345"]
    assert root_cause["ongoing"] is True


def test_story_stored_with_fingerprint():
    diagnosis = diagnosis_create(customer=story_build(), issue_description="Trial stuck")

    assert diagnosis.kind == "db_pool_exhaustion"
    assert diagnosis.component == "WowMemory"
    assert diagnosis.confidence == 0.9
    assert diagnosis.fingerprint == (
        "db_pool_exhaustion|WowMemory|Database connection timeout after <*>s"
    )
    assert diagnosis.result["diagnosis_id"] == diagnosis.diagnosis_id
    assert diagnosis.issue_description == "Trial stuck"


def test_pool_metric_raises_confidence():
    customer = story_build()
    snapshot = evidence_collect(customer=customer)
    snapshot.metrics.append(
        MetricReading(
            name="db.connections",
            agent="WowMemory",
            value=95,
            limit=100,
            observed_at=timezone.now(),
        )
    )

    conclusion = conclusion_reach(snapshot=snapshot, findings=findings_detect(snapshot=snapshot))

    assert conclusion.kind == "db_pool_exhaustion"
    assert conclusion.confidence == 0.97
    assert conclusion.evidence[0] == "Database connections: 95/100 (95%) on WowMemory"
    assert conclusion.steps[0]["result"] == (
        "Database connections: 95/100 (95%) on WowMemory (degraded)"
    )


def test_healthy_customer_nothing_found():
    result = diagnosis_create(customer=healthy_build()).result

    assert result["kind"] == "none"
    assert result["root_cause"]["summary"] == "No problem found in the last 24 hours of telemetry"
    assert result["root_cause"]["confidence"] == 0.0
    assert result["root_cause"]["evidence"] == []
    assert result["resolution_steps"] == []
    assert result["alternatives"] == []
    assert result["related_issues"] == []
    assert result["checked"][1] == "Agent calls: 3 to 1 agents in the last 24 hours"
    assert result["checked"][2] == "Failed or timed-out calls: 0"
    assert len(result["manual_steps"]) == 5


def test_customer_without_telemetry_nothing_found():
    result = diagnosis_create(customer=CustomerFactory()).result

    assert result["kind"] == "none"
    assert result["checked"][0] == "Trials: 0 in the last 24 hours, 0 active"


def test_running_trial_within_usual_time():
    customer = healthy_build()
    trial = customer.trials.get()
    snapshot = evidence_collect(customer=customer)

    findings = findings_detect(snapshot=snapshot)

    assert trial.status == Trial.Status.RUNNING
    assert findings == []


def test_running_trial_stalled_counts_stuck():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    trial = TrialFactory(
        customer=customer,
        current_step=5,
        started_at=now - timedelta(minutes=8),
        step_started_at=now - timedelta(minutes=25),
        last_activity_at=now - timedelta(minutes=25),
    )
    InteractionFactory(
        customer=customer,
        agent=agents["WowDomain"],
        trial=trial,
        workflow_step=5,
        started_at=now - timedelta(minutes=24),
    )
    snapshot = evidence_collect(customer=customer)

    texts = [finding.text for finding in findings_detect(snapshot=snapshot)]

    assert texts == [
        f"Workflow {trial.trial_id} stuck at Step 5/15 (33%) for 25 min "
        "(status RUNNING, no progress for longer than 3x a usual step)"
    ]


def agent_down_build():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory(customer_id="cust-down")
    AgentAssignmentFactory(customer=customer, agent=agents["WowCache"], status=Agent.Status.DOWN)
    trial = TrialFactory(
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=4,
        started_at=now - timedelta(minutes=30),
        step_started_at=now - timedelta(minutes=9),
        last_activity_at=now - timedelta(minutes=9),
    )
    for minutes in (8, 6):
        failed_call_build(
            customer=customer,
            agent=agents["WowCache"],
            trial=trial,
            step=4,
            operation="get_cached",
            message="connect ECONNREFUSED 127.0.0.1:6379",
            started_at=now - timedelta(minutes=minutes),
        )
    return customer, trial


def test_agent_down_names_crash():
    customer, trial = agent_down_build()

    result = diagnosis_create(customer=customer).result
    steps = result["resolution_steps"]

    assert result["kind"] == "agent_crash"
    assert result["root_cause"]["summary"] == "WowCache is down or crashing"
    assert result["root_cause"]["affected_component"] == "WowCache"
    assert result["root_cause"]["confidence_band"] == "high"
    assert "Agent WowCache is DOWN for this customer" in result["root_cause"]["evidence"]
    assert steps[0]["action"] == "Check WowCache status"
    assert steps[0]["result"] == "Agent WowCache is DOWN for this customer (degraded)"
    assert steps[1]["params"] == {"agent": "WowCache"}
    assert steps[2]["params"] == {"workflow_id": trial.trial_id, "from_step": 4}


def test_bad_deploy_version_change():
    now = timezone.now()
    agents = agents_build()
    api = agents["WowAPI"]
    api.version = "0.5.0"
    api.version_changed_at = now - timedelta(minutes=20)
    api.save()
    customer = CustomerFactory(customer_id="cust-deploy")
    InteractionFactory(
        customer=customer, agent=api, operation="call_api", started_at=now - timedelta(minutes=40)
    )
    for minutes in (12, 9, 5):
        failed_call_build(
            customer=customer,
            agent=api,
            operation="call_api",
            message="TypeError: handle() got an unexpected keyword argument 'plan'",
            started_at=now - timedelta(minutes=minutes),
        )

    result = diagnosis_create(customer=customer).result
    steps = result["resolution_steps"]

    assert result["kind"] == "bad_deploy"
    assert result["root_cause"]["affected_component"] == "WowAPI"
    assert result["root_cause"]["confidence"] == 0.82
    assert (
        "WowAPI changed to version 0.5.0 8 min before its first error"
        in (result["root_cause"]["evidence"])
    )
    assert steps[0]["action"] == "Compare errors before and after WowAPI 0.5.0"
    assert steps[1]["action"] == "Roll WowAPI back to the previous version"
    assert "quick_action" not in steps[1]
    assert len(steps) == 2


def test_old_version_change_not_suspect():
    now = timezone.now()
    agents = agents_build()
    api = agents["WowAPI"]
    api.version_changed_at = now - timedelta(hours=5)
    api.save()
    customer = CustomerFactory()
    failed_call_build(
        customer=customer,
        agent=api,
        operation="call_api",
        message="TypeError: bad operand",
        started_at=now - timedelta(minutes=5),
    )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] != "bad_deploy"
    assert "bad_deploy" in kinds_of(result["rejected"])


def test_queue_backlog_without_calls():
    now = timezone.now()
    agents_build()
    customer = CustomerFactory()
    trial = TrialFactory(
        customer=customer,
        status=Trial.Status.STUCK,
        current_step=3,
        started_at=now - timedelta(minutes=20),
        step_started_at=now - timedelta(minutes=15),
        last_activity_at=now - timedelta(minutes=15),
    )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "queue_backlog"
    assert result["root_cause"]["affected_component"] == "WowOrchestrator"
    assert result["root_cause"]["confidence"] == 0.65
    assert result["root_cause"]["confidence_band"] == "medium"
    assert (
        f"No agent call recorded for Step 3 of {trial.trial_id} in 15 min"
        in result["root_cause"]["evidence"]
    )
    assert result["resolution_steps"][1]["params"] == {"agent": "WowOrchestrator"}


def test_upstream_rate_limit_from_429():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    for minutes in (9, 6, 3):
        failed_call_build(
            customer=customer,
            agent=agents["WowAPI"],
            operation="call_llm",
            message="HTTP 429 Too Many Requests",
            started_at=now - timedelta(minutes=minutes),
            retry_count=4,
        )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "upstream_rate_limit"
    assert result["root_cause"]["affected_component"] == "WowAPI"
    assert "Retries: up to 4 per call_llm call to WowAPI" in result["root_cause"]["evidence"]
    assert result["root_cause"]["confidence"] == 0.8


def test_impact_counts_other_customers():
    customer = story_build()
    memory = Agent.objects.get(name="WowMemory")
    for customer_id in ("cust-456", "cust-789"):
        failed_call_build(
            customer=CustomerFactory(customer_id=customer_id),
            agent=memory,
            message="Database connection timeout after 31s",
            started_at=timezone.now() - timedelta(minutes=4),
            status=Interaction.Status.TIMEOUT,
        )

    root_cause = diagnosis_create(customer=customer).result["root_cause"]

    assert root_cause["impact"]["customers_affected"] == 3
    assert root_cause["impact"]["other_customer_ids"] == ["cust-456", "cust-789"]
    assert "Impact: 3 customers affected (also cust-456, cust-789)" in root_cause["evidence"]


def test_invalid_input_penalized_when_shared():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    failed_call_build(
        customer=customer,
        agent=agents["WowDomain"],
        operation="parse_domain",
        message="Validation failed: field 'domain' is malformed",
        started_at=now - timedelta(minutes=3),
    )
    alone = diagnosis_create(customer=customer).result["root_cause"]["confidence"]
    failed_call_build(
        customer=CustomerFactory(),
        agent=agents["WowDomain"],
        operation="parse_domain",
        message="Validation failed: field 'name' is malformed",
        started_at=now - timedelta(minutes=2),
    )

    shared = diagnosis_create(customer=customer).result

    assert alone == 0.64
    assert shared["kind"] == "invalid_customer_input"
    assert shared["root_cause"]["confidence"] == 0.29
    assert shared["root_cause"]["confidence_band"] == "low"
    assert len(shared["manual_steps"]) == 5


def test_hostile_message_masked_in_evidence():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    failed_call_build(
        customer=customer,
        agent=agents["WowAPI"],
        operation="call_llm",
        message="HTTP 401 Unauthorized: api_key=sk-live-123456 rejected",
        started_at=now - timedelta(minutes=3),
    )

    result = diagnosis_create(customer=customer).result

    assert result["kind"] == "credential_failure"
    assert (
        "WowAPI errors: 'HTTP 401 Unauthorized: api_key=*** rejected'"
        in (result["root_cause"]["evidence"])
    )


def test_related_issues_fingerprint_first():
    customer = story_build()
    fingerprint = "db_pool_exhaustion|WowMemory|Database connection timeout after <*>s"
    resolved_at = timezone.now() - timedelta(hours=30)
    text_match = DiagnosisFactory(
        customer=CustomerFactory(customer_id="cust-777"),
        fingerprint="db_pool_exhaustion|WowCache|Database connection timeout after <*>s",
        component="WowCache",
        summary="Database connection timeout in WowCache",
        resolved_at=resolved_at + timedelta(hours=1),
        resolution="Raised the pool size",
    )
    same = DiagnosisFactory(
        customer=CustomerFactory(customer_id="cust-456"),
        fingerprint=fingerprint,
        resolved_at=resolved_at,
        resolution="Restarted agent",
    )
    DiagnosisFactory(fingerprint=fingerprint, resolved_at=None)
    DiagnosisFactory(
        kind="credential_failure",
        fingerprint="credential_failure|WowAPI|HTTP <*> Unauthorized",
        summary="WowAPI presents a rejected or expired credential",
        resolved_at=resolved_at,
        resolution="Rotated the key",
    )

    related = diagnosis_create(customer=customer).result["related_issues"]

    assert [issue["issue_id"] for issue in related] == [
        same.diagnosis_id,
        text_match.diagnosis_id,
    ]
    assert related[0] == {
        "issue_id": same.diagnosis_id,
        "customer_id": "cust-456",
        "similarity": 1.0,
        "resolved": True,
        "resolution": "Restarted agent",
        "match": "fingerprint",
    }
    assert 0.6 <= related[1]["similarity"] < 1.0
    assert related[1]["match"] == "kind"


def test_resolved_diagnosis_becomes_related():
    first = diagnosis_create(customer=story_build())
    diagnosis_resolve(diagnosis=first, resolution="Restarted WowMemory")

    second = diagnosis_create(customer=first.customer).result

    assert second["related_issues"][0]["issue_id"] == first.diagnosis_id
    assert second["related_issues"][0]["resolution"] == "Restarted WowMemory"
    assert "Similar issues: 1 in last 24h" in second["root_cause"]["evidence"]


def test_similar_count_ignores_reruns():
    customer = story_build()
    diagnosis_create(customer=customer)
    other = diagnosis_create(customer=story_build(customer_id="cust-456", trial_id="trial-wf-456"))

    evidence = diagnosis_create(customer=customer).result["root_cause"]["evidence"]

    assert (
        other.fingerprint == "db_pool_exhaustion|WowMemory|Database connection timeout after <*>s"
    )
    assert "Similar issues: 1 in last 24h" in evidence


def test_query_count_independent_of_volume():
    customer = story_build()
    memory = Agent.objects.get(name="WowMemory")
    trial = Trial.objects.get(trial_id="trial-wf-12345")
    other = CustomerFactory()
    with CaptureQueriesContext(connection) as small:
        diagnosis_create(customer=customer)
    for minutes in range(40):
        failed_call_build(
            customer=customer,
            agent=memory,
            trial=trial,
            step=7,
            message=f"Database connection timeout after {minutes}s",
            started_at=timezone.now() - timedelta(minutes=minutes),
            status=Interaction.Status.TIMEOUT,
            log_body="Connection timeout after 30s",
        )
        failed_call_build(
            customer=other,
            agent=memory,
            message=DATABASE_TIMEOUT,
            started_at=timezone.now() - timedelta(minutes=minutes),
        )

    with CaptureQueriesContext(connection) as large:
        diagnosis_create(customer=customer)

    # Operations cost three: the rollup check, the rolled-up hours and the raw partial hours.
    assert len(small.captured_queries) == 18
    assert len(large.captured_queries) == len(small.captured_queries)


def test_step_activity_only_current_steps():
    now = timezone.now()
    agents = agents_build()
    customer = CustomerFactory()
    running = TrialFactory(customer=customer, current_step=4, started_at=now - timedelta(hours=2))
    done = TrialFactory(
        customer=customer,
        status=Trial.Status.COMPLETED,
        current_step=15,
        started_at=now - timedelta(hours=3),
        last_activity_at=now - timedelta(minutes=30),
    )
    calls = [
        (running, 2, "WowAPI", Interaction.Status.SUCCESS, timedelta(minutes=50)),
        (running, 4, "WowAPI", Interaction.Status.SUCCESS, timedelta(minutes=20)),
        (running, 4, "WowAPI", Interaction.Status.SUCCESS, timedelta(minutes=10)),
        (running, 4, "WowCache", Interaction.Status.TIMEOUT, timedelta(minutes=5)),
        (running, 4, "WowCache", Interaction.Status.FAILED, timedelta(hours=25)),
        (done, 15, "WowMemory", Interaction.Status.FAILED, timedelta(minutes=40)),
    ]
    for trial, step, agent, status, age in calls:
        InteractionFactory(
            customer=customer,
            agent=agents[agent],
            trial=trial,
            workflow_step=step,
            status=status,
            started_at=now - age,
        )

    snapshot = evidence_collect(customer=customer, now=now)

    # Only the running trial's step 4 within the lookback: not step 2, not the completed trial.
    assert snapshot.step_activity == [
        StepActivity(
            workflow_id=running.trial_id,
            step=4,
            agent="WowAPI",
            calls=2,
            problems=0,
            last_call_at=now - timedelta(minutes=10),
        ),
        StepActivity(
            workflow_id=running.trial_id,
            step=4,
            agent="WowCache",
            calls=1,
            problems=1,
            last_call_at=now - timedelta(minutes=5),
        ),
    ]
