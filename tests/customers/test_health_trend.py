from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from customers.health import HealthScore
from customers.models import HealthSnapshot
from customers.selectors import customer_overview_get
from customers.services import health_snapshot_record
from customers.trend import (
    SPARKLINE_HEIGHT,
    SPARKLINE_PADDING,
    SPARKLINE_WIDTH,
    health_trend_get,
    hour_of,
)
from diagnostics.models import Diagnosis
from tests.customers.story import story_build
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
CRITICAL = HealthScore(score=40, status="critical")


def snapshot_add(customer, *, hours_ago: float, score: int) -> HealthSnapshot:
    taken_at = NOW - timedelta(hours=hours_ago)
    return HealthSnapshot.objects.create(
        customer=customer, taken_at=taken_at, hour=hour_of(taken_at), score=score, status="healthy"
    )


def diagnosis_add(customer, *, kind: str, resolved: bool) -> Diagnosis:
    return Diagnosis.objects.create(
        customer=customer,
        kind=kind,
        summary="Summary",
        confidence=0.8,
        resolved_at=timezone.now() if resolved else None,
    )


# --- Trend --------------------------------------------------------------------------------


def test_trend_oldest_first_then_current():
    customer = CustomerFactory()
    snapshot_add(customer, hours_ago=3, score=70)
    snapshot_add(customer, hours_ago=30, score=90)

    trend = health_trend_get(customer=customer, health=CRITICAL, now=NOW)

    assert [point.score for point in trend.points] == [90, 70, 40]
    assert trend.points[-1].taken_at == NOW
    assert trend.change == -50
    assert trend.min_score == 40
    assert trend.max_score == 90


def test_trend_ignores_older_than_week():
    customer = CustomerFactory()
    snapshot_add(customer, hours_ago=24 * 7 + 2, score=10)
    snapshot_add(customer, hours_ago=5, score=60)

    trend = health_trend_get(customer=customer, health=CRITICAL, now=NOW)

    assert [point.score for point in trend.points] == [60, 40]


def test_trend_ignores_other_customers():
    customer = CustomerFactory()
    snapshot_add(CustomerFactory(), hours_ago=2, score=10)

    trend = health_trend_get(customer=customer, health=CRITICAL, now=NOW)

    assert [point.score for point in trend.points] == [40]
    assert trend.last_snapshot_at is None


def test_trend_sparkline_coordinates():
    customer = CustomerFactory()
    snapshot_add(customer, hours_ago=24 * 7, score=100)

    trend = health_trend_get(
        customer=customer, health=HealthScore(score=0, status="critical"), now=NOW
    )

    assert trend.sparkline_coordinates == [
        (SPARKLINE_PADDING, SPARKLINE_PADDING),
        (SPARKLINE_WIDTH - SPARKLINE_PADDING, SPARKLINE_HEIGHT - SPARKLINE_PADDING),
    ]
    assert trend.sparkline_points == "5,5 295,45"


@pytest.mark.parametrize(
    ("hours_ago", "due"),
    [(None, True), (0.5, False), (0.99, False), (1, True), (5, True)],
)
def test_snapshot_due_after_an_hour(hours_ago, due):
    customer = CustomerFactory()
    if hours_ago is not None:
        snapshot_add(customer, hours_ago=hours_ago, score=80)

    trend = health_trend_get(customer=customer, health=CRITICAL, now=NOW)

    assert trend.snapshot_due is due


def test_hour_of_uses_utc():
    kolkata = datetime(2026, 3, 9, 18, 45, tzinfo=timezone.get_fixed_timezone(330))

    assert hour_of(kolkata) == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


# --- Snapshot service ---------------------------------------------------------------------


def test_snapshot_recorded_when_due():
    customer = CustomerFactory()
    trend = health_trend_get(customer=customer, health=CRITICAL, now=NOW)

    recorded = health_snapshot_record(customer=customer, health=CRITICAL, trend=trend)

    snapshot = HealthSnapshot.objects.get(customer=customer)
    assert recorded is True
    assert snapshot.taken_at == NOW
    assert snapshot.hour == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert snapshot.score == 40
    assert snapshot.status == "critical"


def test_snapshot_skipped_within_hour():
    customer = CustomerFactory()
    snapshot_add(customer, hours_ago=0.5, score=80)
    trend = health_trend_get(customer=customer, health=CRITICAL, now=NOW)

    recorded = health_snapshot_record(customer=customer, health=CRITICAL, trend=trend)

    assert recorded is False
    assert HealthSnapshot.objects.filter(customer=customer).count() == 1


def test_snapshot_same_hour_race_stores_one():
    customer = CustomerFactory()
    first = health_trend_get(customer=customer, health=CRITICAL, now=NOW)
    second = health_trend_get(customer=customer, health=CRITICAL, now=NOW + timedelta(minutes=5))

    health_snapshot_record(customer=customer, health=CRITICAL, trend=first)
    health_snapshot_record(customer=customer, health=CRITICAL, trend=second)

    assert HealthSnapshot.objects.filter(customer=customer).count() == 1


def test_overview_page_records_snapshot_once(operator_client):
    story_build()

    operator_client.get("/customers/cust-123/")
    operator_client.get("/customers/cust-123/")

    snapshots = HealthSnapshot.objects.filter(customer__customer_id="cust-123")
    assert snapshots.count() == 1
    assert snapshots.get().score == 50


def test_overview_api_records_snapshot(operator_client):
    story_build()

    response = operator_client.get("/api/platform/helpdesk/customers/cust-123")

    trend = response.json()["health_trend"]
    assert HealthSnapshot.objects.filter(customer__customer_id="cust-123").count() == 1
    assert [point["score"] for point in trend] == [50]
    assert trend[0]["status"] == "degraded"


# --- Overview: gauge, sparkline and issue counts -----------------------------------------


def test_overview_shows_gauge_and_sparkline(operator_client):
    story = story_build()
    taken_at = timezone.now() - timedelta(hours=3)
    HealthSnapshot.objects.create(
        customer=story.customer,
        taken_at=taken_at,
        hour=hour_of(taken_at),
        score=95,
        status="healthy",
    )

    body = operator_client.get("/customers/cust-123/").content.decode()

    assert 'class="gauge-value" d="M 10 50 A 40 40 0 0 1 90 50" pathLength="100"' in body
    assert 'stroke-dasharray="50 100"' in body
    assert '<polyline class="sparkline-line" points="' in body
    assert "Last 7 days: 95 → 50 (-45), lowest 50, highest 95" in body
    assert "style=" not in body


def test_overview_trend_without_history(operator_client):
    story_build()

    body = operator_client.get("/customers/cust-123/").content.decode()

    assert "no earlier scores recorded" in body
    assert "<polyline" not in body


def test_overview_issue_counts():
    story = story_build()
    diagnosis_add(story.customer, kind="db_pool_exhaustion", resolved=False)
    diagnosis_add(story.customer, kind="db_pool_exhaustion", resolved=True)
    diagnosis_add(story.customer, kind="cache_miss_storm", resolved=True)
    diagnosis_add(story.customer, kind="none", resolved=False)
    diagnosis_add(CustomerFactory(), kind="db_pool_exhaustion", resolved=False)

    stats = customer_overview_get(customer_id="cust-123").quick_stats

    assert stats.issues_reported == 3
    assert stats.issues_open == 1
    assert stats.issues_resolved == 2


def test_overview_page_shows_issue_counts(operator_client):
    story = story_build()
    diagnosis_add(story.customer, kind="db_pool_exhaustion", resolved=False)

    body = operator_client.get("/customers/cust-123/").content.decode()

    assert "<dt>Issues</dt><dd>1 reported (1 open, 0 resolved)</dd>" in body


def test_overview_api_issue_counts(operator_client):
    story = story_build()
    diagnosis_add(story.customer, kind="db_pool_exhaustion", resolved=True)

    stats = operator_client.get("/api/platform/helpdesk/customers/cust-123").json()["quick_stats"]

    assert stats["issues_reported"] == 1
    assert stats["issues_open"] == 0
    assert stats["issues_resolved"] == 1
