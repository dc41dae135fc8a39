import datetime as dt
from collections import Counter

from diagnostics.catalog import CATALOG
from evaluation.scenarios import AGENT_POOL, scenario_digest, scenarios_generate

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def test_generator_is_deterministic():
    first = scenarios_generate(seed=11, per_kind=1, now=NOW)
    second = scenarios_generate(seed=11, per_kind=1, now=NOW)

    assert [scenario_digest(s) for s in first] == [scenario_digest(s) for s in second]


def test_other_seed_draws_other_scenarios():
    first = scenarios_generate(seed=11, per_kind=1, now=NOW)
    second = scenarios_generate(seed=12, per_kind=1, now=NOW)

    assert [scenario_digest(s) for s in first] != [scenario_digest(s) for s in second]


def test_every_catalog_kind_labelled():
    scenarios = scenarios_generate(seed=3, per_kind=5, now=NOW)
    kinds = Counter(scenario.kind for scenario in scenarios)

    assert len(scenarios) == 60
    assert set(kinds) == set(CATALOG)
    assert set(kinds.values()) == {5}


def test_component_is_a_roster_agent():
    scenarios = scenarios_generate(seed=3, per_kind=2, now=NOW)
    pool = {name for name, _role in AGENT_POOL}

    for scenario in scenarios:
        assert scenario.component in pool
        assert scenario.component in {span.agent for span in scenario.spans} | {
            log.agent for log in scenario.logs
        }


def test_agent_names_beyond_demo_five():
    scenarios = scenarios_generate(seed=3, per_kind=5, now=NOW)
    components = {scenario.component for scenario in scenarios}

    assert (
        len(components - {"WowMemory", "WowOrchestrator", "WowCache", "WowDomain", "WowAPI"}) >= 5
    )


def test_noise_present_across_suite():
    scenarios = scenarios_generate(seed=3, per_kind=5, now=NOW)

    with_secondary = [s for s in scenarios if s.secondary is not None]
    with_healthy_peers = [
        s for s in scenarios if {span.customer_id for span in s.spans} - {s.customer_id, None}
    ]
    assert 10 <= len(with_secondary) <= 40
    assert len(with_healthy_peers) == 60
    assert all(s.secondary[1] != s.component for s in with_secondary)


def test_spans_stay_inside_lookback():
    scenarios = scenarios_generate(seed=5, per_kind=1, now=NOW)

    for scenario in scenarios:
        for span in scenario.spans:
            assert NOW - dt.timedelta(hours=24) < span.started_at <= NOW
