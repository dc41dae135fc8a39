from datetime import UTC, datetime, timedelta

from demo_platform.world import STORY_CUSTOMER_ID, STORY_TRIAL_ID, world_build

ANCHOR = datetime(2026, 1, 1, 12, 15, tzinfo=UTC)


def test_story_customer_profile_exact():
    world = world_build(anchor=ANCHOR)

    customer = world.customers[STORY_CUSTOMER_ID]

    assert customer.name == "John Doe"
    assert customer.email == "john@example.com"
    assert customer.phone == "+1234567890"
    assert customer.company == "Acme Corp"


def test_story_trial_stuck_at_step_seven():
    world = world_build(anchor=ANCHOR)

    trial = world.trials[STORY_TRIAL_ID]

    assert trial.customer_id == STORY_CUSTOMER_ID
    assert trial.status == "STUCK"
    assert trial.current_step == 7
    assert trial.total_steps == 15
    assert trial.step_name == "initialize_agent_context"


def test_story_fault_is_pool_exhaustion():
    world = world_build(anchor=ANCHOR)

    faults = [f for f in world.faults.values() if f.customer_id == STORY_CUSTOMER_ID]

    assert [(f.kind, f.agent) for f in faults] == [("db_pool_exhausted", "WowMemory")]


def test_story_history_successes_then_timeouts():
    world = world_build(anchor=ANCHOR)

    calls = [c for c in world.interactions if c.trial_id == STORY_TRIAL_ID]
    operations = [c.operation for c in calls]

    assert operations[:2] == ["store_context", "start_trial_workflow"]
    assert all(not call.failed for call in calls[:6])
    assert [c.operation for c in calls[6:]] == ["retrieve_context"] * 3
    for call in calls[6:]:
        assert call.agent == "WowMemory"
        assert call.error_type == "TimeoutError"
        assert call.error_message == "Database connection timeout after 30s"
        assert call.duration_ms >= 30000
        assert call.attributes["db.client.connection.count"] == 95
        assert call.attributes["db.client.connection.max"] == 100
    assert [c.retry_count for c in calls[6:]] == [0, 1, 2]


def test_story_timeout_logs_joined_text():
    world = world_build(anchor=ANCHOR)

    last = [c for c in world.interactions if c.trial_id == STORY_TRIAL_ID][-1]
    bodies = [line.body for line in last.logs]

    assert bodies[0] == "Connecting to database..."
    assert bodies[-1] == "ERROR: Connection timeout"


def test_same_name_pair_differs():
    world = world_build(anchor=ANCHOR)

    pair = [c for c in world.customers.values() if c.name == "Maria Garcia"]

    assert len(pair) == 2
    assert pair[0].email != pair[1].email
    assert pair[0].company != pair[1].company


def test_only_pair_shares_name():
    world = world_build(anchor=ANCHOR)

    names = [c.name for c in world.customers.values()]
    repeated = {name for name in names if names.count(name) > 1}

    assert repeated == {"Maria Garcia"}


def test_world_mixes_trial_outcomes():
    world = world_build(anchor=ANCHOR)

    statuses = {trial.status for trial in world.trials.values()}
    kinds = {fault.kind for fault in world.faults.values()}

    assert len(world.customers) == 240
    assert statuses == {"COMPLETED", "RUNNING", "STUCK", "FAILED"}
    assert kinds == {"db_pool_exhausted", "queue_backlog", "rate_limited", "cache_corruption"}


def test_world_same_seed_same_ids():
    first = world_build(anchor=ANCHOR)
    second = world_build(anchor=ANCHOR + timedelta(days=3))

    first_ids = [(c.trace_id, c.span_id) for c in first.interactions]
    second_ids = [(c.trace_id, c.span_id) for c in second.interactions]

    assert first_ids == second_ids
    assert list(first.trials) == list(second.trials)
    assert second.trials[STORY_TRIAL_ID].started_at == ANCHOR + timedelta(days=3, minutes=-12)
