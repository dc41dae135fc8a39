import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Customer, Trial
from evaluation.replay import scenario_diagnose, scenario_ingest
from evaluation.scenarios import scenario_generate
from telemetry.models import Interaction, LogRecord


@pytest.fixture
def scenario():
    return scenario_generate(seed=42, kind="agent_crash", index=0, now=timezone.now())


@pytest.mark.django_db
def test_scenario_ingest_stores_everything(scenario):
    scenario_ingest(scenario=scenario)

    customer = Customer.objects.get(customer_id=scenario.customer_id)
    assert Interaction.objects.count() == len(scenario.spans)
    assert LogRecord.objects.count() == len(scenario.logs)
    assert Trial.objects.filter(customer=customer).count() == 1
    assert customer.company != ""


@pytest.mark.django_db
def test_scenario_diagnosis_leaves_nothing(scenario):
    outcome = scenario_diagnose(scenario=scenario)

    assert outcome.scenario is scenario
    assert outcome.conclusion.kind != ""
    assert outcome.seconds < 60
    assert not Interaction.objects.filter(trace_id=scenario.spans[0].trace_id).exists()
    assert not Customer.objects.filter(customer_id=scenario.customer_id).exists()


def test_failing_spans_marked_error(scenario):
    from evaluation.replay import trace_request

    request = trace_request(spans=scenario.spans, agent_attribute=True)
    statuses = [
        span.status.code
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    failing = [span for span in scenario.spans if span.failure is not None]

    assert statuses.count(2) == len(failing)
    assert len(statuses) == len(scenario.spans)
    assert dt.timedelta(0) < timezone.now() - min(s.started_at for s in scenario.spans)


@pytest.mark.django_db
def test_pool_metric_reaches_evidence():
    from diagnostics.evidence import evidence_collect

    scenario = scenario_generate(seed=8, kind="db_pool_exhaustion", index=0, now=timezone.now())
    scenario_ingest(scenario=scenario)

    customer = Customer.objects.get(customer_id=scenario.customer_id)
    readings = [
        reading
        for reading in evidence_collect(customer=customer).metrics
        if reading.name == "db.connections" and reading.agent == scenario.component
    ]
    assert readings
    assert readings[-1].ratio > 0.9
