from datetime import UTC, datetime, timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from customers.models import Trial
from customers.selectors import (
    active_issues_list,
    cursor_decode,
    cursor_encode,
    customer_get,
    customer_overview_get,
    timeline_page_get,
)
from tests.customers.story import story_build
from tests.factories import CustomerFactory, InteractionFactory, TrialFactory

pytestmark = pytest.mark.django_db


def test_active_issues_newest_first():
    now = timezone.now()
    older = TrialFactory(status=Trial.Status.FAILED, last_activity_at=now - timedelta(hours=2))
    newer = TrialFactory(status=Trial.Status.STUCK, last_activity_at=now - timedelta(minutes=5))
    TrialFactory(status=Trial.Status.RUNNING, last_activity_at=now)
    TrialFactory(status=Trial.Status.COMPLETED, last_activity_at=now)

    issues = active_issues_list()

    assert [issue.customer for issue in issues] == [newer.customer, older.customer]


def test_active_issues_group_by_customer():
    customer = CustomerFactory()
    now = timezone.now()
    first = TrialFactory(customer=customer, status=Trial.Status.STUCK, last_activity_at=now)
    second = TrialFactory(
        customer=customer, status=Trial.Status.FAILED, last_activity_at=now - timedelta(hours=1)
    )

    issues = active_issues_list()

    assert len(issues) == 1
    assert issues[0].trials == [first, second]
    assert issues[0].last_activity_at == now


def test_active_issues_limit():
    for _ in range(3):
        TrialFactory(status=Trial.Status.STUCK)

    assert len(active_issues_list(limit=2)) == 2


def test_customer_get_unknown_raises():
    with pytest.raises(Http404, match="Customer 'cust-none' not found"):
        customer_get(customer_id="cust-none")


def test_overview_splits_trials():
    story = story_build()
    completed = TrialFactory(customer=story.customer, status=Trial.Status.COMPLETED)

    overview = customer_overview_get(customer_id="cust-123")

    assert overview.active_trials == [story.trial]
    assert overview.completed_trials == [completed]
    assert overview.quick_stats.trials_total == 2
    assert overview.quick_stats.trials_active == 1
    assert overview.quick_stats.trials_completed == 1
    assert overview.quick_stats.agent_names == ["WowMemory", "WowOrchestrator"]
    assert overview.open_tickets == 0


def test_overview_recent_activity_newest_first():
    story_build()

    overview = customer_overview_get(customer_id="cust-123")

    operations = [entry.interaction.operation for entry in overview.recent_activity]
    assert operations == ["retrieve_context", "start_trial_workflow", "store_context"]


def test_overview_masks_metadata():
    customer = CustomerFactory(metadata={"tier": "gold", "client_secret": "abc"})

    overview = customer_overview_get(customer_id=customer.customer_id)

    assert overview.metadata_masked == {"tier": "gold", "client_secret": "***"}
    assert overview.metadata_items == [("tier", "gold"), ("client_secret", "***")]


def test_refresh_needed_only_while_running():
    story = story_build()

    stuck = customer_overview_get(customer_id="cust-123")
    story.trial.status = Trial.Status.RUNNING
    story.trial.save()
    running = customer_overview_get(customer_id="cust-123")

    assert stuck.refresh_needed is False
    assert running.refresh_needed is True


def test_timeline_cursor_round_trip():
    moment = datetime(2026, 1, 1, 12, 5, 30, 123456, tzinfo=UTC)

    cursor = cursor_encode(started_at=moment, pk=42)

    assert cursor_decode(cursor) == (moment, 42)


@pytest.mark.parametrize("cursor", ["garbage", "", "MjAyNg", "bm90fGEtbnVtYmVy"])
def test_timeline_cursor_invalid(cursor):
    with pytest.raises(ValueError, match="Invalid cursor"):
        cursor_decode(cursor)


def test_timeline_pages_without_gaps():
    customer = CustomerFactory()
    same_moment = timezone.now()
    created = [InteractionFactory(customer=customer, started_at=same_moment) for _ in range(5)]

    first = timeline_page_get(customer=customer, limit=2)
    second = timeline_page_get(customer=customer, limit=2, cursor=first.next_cursor)
    third = timeline_page_get(customer=customer, limit=2, cursor=second.next_cursor)

    seen = [entry.interaction.pk for page in (first, second, third) for entry in page.entries]
    assert seen == sorted((interaction.pk for interaction in created), reverse=True)
    assert third.next_cursor is None


def test_timeline_time_bounds():
    customer = CustomerFactory()
    now = timezone.now()
    InteractionFactory(customer=customer, operation="early", started_at=now - timedelta(hours=5))
    InteractionFactory(customer=customer, operation="middle", started_at=now - timedelta(hours=3))
    InteractionFactory(customer=customer, operation="late", started_at=now - timedelta(hours=1))

    page = timeline_page_get(
        customer=customer, since=now - timedelta(hours=4), until=now - timedelta(hours=2)
    )

    assert [entry.interaction.operation for entry in page.entries] == ["middle"]


def test_timeline_excludes_other_customers():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, operation="mine")
    InteractionFactory(operation="theirs")

    page = timeline_page_get(customer=customer)

    assert [entry.interaction.operation for entry in page.entries] == ["mine"]


def test_timeline_entry_keeps_plain_text():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, response_body="not json, password=hunter2")

    entry = timeline_page_get(customer=customer).entries[0]

    assert entry.response_is_json is False
    assert entry.response_text == "not json, password=***"
