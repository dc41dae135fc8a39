import datetime as dt
import itertools
import math

import pytest

from diagnostics import system
from diagnostics.system import (
    PeriodError,
    TraceUnit,
    binomial_tail_score,
    diagnose_system,
    entry_span,
    miss_rate,
    pattern_break_describe,
    pattern_breaks_find,
    patterns_learn,
    periods_resolve,
    saturation_scores,
    statement_key,
    trace_units_build,
)
from telemetry.models import LogRecord, MetricSample
from tests.factories import AgentFactory, InteractionFactory, LogRecordFactory

BASELINE_START = dt.datetime(2023, 1, 29, 8, 50, tzinfo=dt.UTC)
WINDOW_START = dt.datetime(2023, 1, 29, 10, 26, tzinfo=dt.UTC)


UNIT_NUMBERS = itertools.count()


def unit(service: str, *events: str, operation: str = "query", caller=None) -> TraceUnit:
    return TraceUnit(
        service=service,
        operation=operation,
        started_at=WINDOW_START,
        ended_at=WINDOW_START,
        events=set(events),
        key=("trace", f"span-{next(UNIT_NUMBERS)}"),
        caller=caller,
    )


def test_entry_span_climbs_within_service():
    parents = {
        ("t1", "a"): ("", "gateway", "/*", None, 0),
        ("t1", "b"): ("a", "travel", "GET /trips", None, 0),
        ("t1", "c"): ("b", "travel", "TravelServiceImpl.query", None, 0),
        ("t1", "d"): ("c", "route", "GET /routes", None, 0),
    }
    entries = {}

    found = {key: entry_span(key=key, parents=parents, entries=entries) for key in parents}

    assert found == {
        ("t1", "a"): ("t1", "a"),
        ("t1", "b"): ("t1", "b"),
        ("t1", "c"): ("t1", "b"),
        ("t1", "d"): ("t1", "d"),
    }


def test_entry_span_stops_at_a_parent_cycle():
    parents = {
        ("t1", "a"): ("b", "travel", "x", None, 0),
        ("t1", "b"): ("a", "travel", "y", None, 0),
    }

    assert entry_span(key=("t1", "a"), parents=parents, entries={}) == ("t1", "b")


def test_trace_units_attach_records_and_drop_unfinished_units():
    spans = [
        ("t1", "a", "", "travel", "GET /trips", WINDOW_START, 100),
        ("t1", "b", "a", "travel", "TravelServiceImpl.query", WINDOW_START, 50),
        ("t2", "c", "", "travel", "GET /trips", WINDOW_START + dt.timedelta(seconds=59), 5000),
    ]
    records = [
        ("t1", "b", None, {"code.namespace": "t.s.TravelServiceImpl", "code.lineno": 366}, ""),
        ("t1", "a", 7, {}, "Query trips"),
        ("t2", "c", 8, {}, "Query trips"),
        ("t9", "z", 9, {}, "record of a span outside the window"),
    ]

    found = trace_units_build(
        spans=spans,
        records=records,
        since=WINDOW_START,
        until=WINDOW_START + dt.timedelta(seconds=57),
    )

    assert [(u.service, u.operation, u.events) for u in found.units] == [
        ("travel", "GET /trips", {"t.s.TravelServiceImpl#366", "template:7"})
    ]
    assert found.examples["template:7"] == "Query trips"


def test_trace_units_skip_earlier_entries():
    spans = [
        ("t1", "a", "", "travel", "GET /trips", WINDOW_START - dt.timedelta(seconds=1), 900),
        ("t1", "b", "a", "travel", "query", WINDOW_START + dt.timedelta(seconds=1), 100),
    ]

    found = trace_units_build(
        spans=spans, records=[], since=WINDOW_START, until=WINDOW_START + dt.timedelta(minutes=1)
    )

    assert found.units == []


def test_trace_units_link_callers():
    spans = [
        ("t1", "a", "", "order", "POST /orders", WINDOW_START, 100),
        ("t1", "b", "a", "order", "OrderService.create", WINDOW_START, 90),
        ("t1", "c", "b", "payment", "POST /charge", WINDOW_START, 50),
    ]

    found = trace_units_build(
        spans=spans, records=[], since=WINDOW_START, until=WINDOW_START + dt.timedelta(minutes=1)
    )

    assert [(u.service, u.key, u.caller) for u in found.units] == [
        ("order", ("t1", "a"), None),
        ("payment", ("t1", "c"), ("t1", "a")),
    ]


def test_statement_key_fallback_order():
    assert statement_key({"code.function.name": "a.B.run", "code.line.number": 4}, 3, "x") == (
        "a.B.run#4"
    )
    assert statement_key({"code.namespace": "a.B"}, 3, "x") == "template:3"
    assert statement_key(None, None, "Order 42 saved") == "Order <*> saved"


def test_patterns_learn_counts_cues_and_events_together():
    patterns = patterns_learn(units=[unit("travel", "A", "B"), unit("travel", "A")])

    assert patterns.cue_counts[("travel", "A")] == 2
    assert patterns.cue_counts[("travel", "entry:query")] == 2
    assert patterns.event_counts[("travel", "A")] == {"A": 2, "B": 1}
    assert patterns.units == 2


def test_expected_needs_support_and_share():
    patterns = patterns_learn(units=[unit("travel", "A", "B") for _ in range(19)])
    patterns.event_counts[("travel", "A")]["C"] = 17

    assert patterns.expected(service="travel", cue="A") == [
        ("B", pytest.approx(miss_rate(support=19, seen=19)))
    ]
    assert (
        patterns_learn(units=[unit("travel", "A", "B")] * 4).expected(service="travel", cue="A")
        == []
    )


def test_missing_statement_breaks_the_pattern():
    patterns = patterns_learn(units=[unit("travel", "A", "B") for _ in range(20)])
    window = [unit("travel", "A") for _ in range(10)] + [unit("travel", "A", "B")] * 10

    found = pattern_breaks_find(units=window, patterns=patterns)

    assert [(item.service, item.cue, item.missing, item.units, item.misses) for item in found] == [
        ("travel", "A", "B", 20, 10),
        ("travel", "entry:query", "B", 20, 10),
    ]
    assert found[0].score == pytest.approx(
        binomial_tail_score(trials=20, successes=10, rate=miss_rate(support=20, seen=20))
    )
    assert [pattern_break_describe(found=item, examples={"B": "Trip saved"}) for item in found] == [
        'travel: 10 of 20 calls that logged A did not log B "Trip saved" '
        "(the baseline allows about 3.2)",
        'travel: 10 of 20 calls to query did not log B "Trip saved" '
        "(the baseline allows about 3.2)",
    ]


def test_miss_rate_bounds_a_short_baseline():
    assert miss_rate(support=10, seen=10) == pytest.approx(0.2775, abs=1e-4)
    assert miss_rate(support=2000, seen=2000) == pytest.approx(0.0019, abs=1e-4)
    assert miss_rate(support=110, seen=100) == pytest.approx(0.1593, abs=1e-4)


def test_binomial_tail_score_matches_direct_sum():
    chance = sum(math.comb(20, k) * 0.1**k * 0.9 ** (20 - k) for k in range(5, 21))

    assert binomial_tail_score(trials=20, successes=5, rate=0.1) == pytest.approx(
        -math.log10(chance)
    )
    assert binomial_tail_score(trials=20, successes=0, rate=0.1) == 0.0


def test_two_misses_are_not_a_break():
    patterns = patterns_learn(units=[unit("report", "A", "B") for _ in range(2000)])
    window = [unit("report", "A"), unit("report", "A"), unit("report", "A", "B")]

    assert pattern_breaks_find(units=window, patterns=patterns) == []


def order_calls(*, count: int, order_events: tuple, payment_events: tuple) -> list[TraceUnit]:
    """Return `count` traces of an order unit that calls a payment unit."""
    units = []
    for _ in range(count):
        order = unit("order", *order_events)
        units += [order, unit("payment", *payment_events, caller=order.key)]
    return units


def test_caller_misses_are_left_to_the_callee():
    baseline = order_calls(count=50, order_events=("O1", "O2"), payment_events=("P1", "P2"))
    window = order_calls(count=30, order_events=("O1",), payment_events=("P1",))

    found = pattern_breaks_find(units=window, patterns=patterns_learn(units=baseline))

    assert {item.service for item in found} == {"payment"}


def test_saturated_callee_explains_caller():
    baseline = order_calls(count=50, order_events=("O1", "O2"), payment_events=("P1",))
    window = order_calls(count=30, order_events=("O1",), payment_events=("P1",))
    patterns = patterns_learn(units=baseline)

    assert {item.service for item in pattern_breaks_find(units=window, patterns=patterns)} == {
        "order"
    }
    assert pattern_breaks_find(units=window, patterns=patterns, saturated={"payment"}) == []


def test_baseline_rate_misses_ignored():
    baseline = [unit("seat", "A", "B") for _ in range(90)] + [unit("seat", "A")] * 10
    patterns = patterns_learn(units=baseline)
    window = [unit("seat", "A", "B") for _ in range(9)] + [unit("seat", "A")]

    assert pattern_breaks_find(units=window * 20, patterns=patterns) == []


def at(minutes: int) -> dt.datetime:
    return WINDOW_START + dt.timedelta(minutes=minutes)


def test_saturation_flags_a_jump_to_near_the_limit():
    samples = [("contacts", "pod.cpu.usage_rate", "%", at(m), 1.0) for m in (-4, -3, -2)]
    samples += [("contacts", "pod.cpu.usage_rate", "%", at(1), 91.0)]
    samples += [("food", "pod.cpu.usage_rate", "%", at(m), 2.0) for m in (-3, -2, -1)]
    samples += [("food", "pod.cpu.usage_rate", "%", at(1), 4.0)]
    samples += [("route", "pod.cpu.usage_rate", "%", at(1), 90.0)]

    assert saturation_scores(samples=samples, since=WINDOW_START) == {
        "contacts": (
            pytest.approx(90.0),
            "contacts: pod.cpu.usage_rate reached 91% of its limit against a level of 1% "
            "before the window",
        )
    }


def test_saturation_ignores_a_jump_far_from_the_limit():
    samples = [("train", "pod.cpu.usage_rate", "%", at(m), 2.5) for m in (-3, -2, -1)]
    samples += [("train", "pod.cpu.usage_rate", "%", at(1), 27.3)]

    assert saturation_scores(samples=samples, since=WINDOW_START) == {}


def test_saturation_skips_unknown_units():
    samples = [("seat", "pod.memory.usage_rate", "By", at(m), 2e8) for m in (-3, -2, -1)]
    samples += [("seat", "pod.memory.usage_rate", "By", at(1), 2.5e8)]
    samples += [("seat", "container.cpu.utilization", "percent", at(m), 20) for m in (-3, -2)]
    samples += [("seat", "container.cpu.utilization", "percent", at(-1), 20)]
    samples += [("seat", "container.cpu.utilization", "percent", at(1), 40)]

    assert saturation_scores(samples=samples, since=WINDOW_START) == {}


def test_saturation_reads_ratios_of_the_limit():
    samples = [("seat", "container.cpu.utilization", "1", at(m), 0.05) for m in (-3, -2, -1)]
    samples += [("seat", "container.cpu.utilization", "1", at(1), 0.95)]

    assert saturation_scores(samples=samples, since=WINDOW_START) == {
        "seat": (
            pytest.approx(90.0),
            "seat: container.cpu.utilization reached 95% of its limit against a level of 5% "
            "before the window",
        )
    }


MESSAGES = {366: "[query][Query trips]", 372: "[query][Trips returned]"}


def calls_create(*, start: dt.datetime, count: int, logs_line_372: bool) -> None:
    """Create `count` travel calls that log line 366 and, when asked, line 372 after it."""
    agent = AgentFactory(name=f"ts-travel2-service-{start:%H%M}")
    for index in range(count):
        call = InteractionFactory(
            customer=None,
            agent=agent,
            service_name="ts-travel2-service",
            operation="GET /api/v1/travel2service/trips/left",
            started_at=start + dt.timedelta(seconds=index),
            duration_ms=200,
        )
        lines = (366, 372) if logs_line_372 else (366,)
        for line in lines:
            LogRecordFactory(
                interaction=call,
                customer=None,
                timestamp=call.started_at + dt.timedelta(milliseconds=line - 300),
                body=MESSAGES[line],
                attributes={"code.namespace": "t.s.TravelServiceImpl", "code.lineno": line},
            )


@pytest.mark.django_db
def test_diagnose_system_names_the_service_that_stopped_logging():
    calls_create(start=BASELINE_START, count=20, logs_line_372=True)
    calls_create(start=WINDOW_START, count=20, logs_line_372=False)

    diagnosis = diagnose_system(
        since=WINDOW_START,
        until=WINDOW_START + dt.timedelta(minutes=1),
        baseline_since=BASELINE_START,
        baseline_until=BASELINE_START + dt.timedelta(minutes=1),
    )

    # Calls that ended within 3 seconds of the newest record may still have records on the way.
    assert diagnosis.root_cause_service == "ts-travel2-service"
    assert diagnosis.units_checked == 16
    assert diagnosis.baseline_units == 16
    assert diagnosis.suspects[0].evidence[0] == (
        "ts-travel2-service: 16 of 16 calls that logged t.s.TravelServiceImpl#366 "
        '"[query][Query trips]" did not log t.s.TravelServiceImpl#372 "[query][Trips returned]" '
        "(the baseline allows about 3.1)"
    )


@pytest.mark.django_db
def test_diagnose_system_adds_saturation_from_metrics():
    agent = AgentFactory(name="ts-contacts-service")
    for offset, value in ((-3, 1.0), (-2, 2.0), (-1, 1.0), (1, 95.0)):
        MetricSample.objects.create(
            agent=agent,
            name="pod.cpu.usage_rate",
            kind=MetricSample.Kind.GAUGE,
            service_name="ts-contacts-service",
            unit="%",
            series="cpu-contacts",
            timestamp=WINDOW_START + dt.timedelta(minutes=offset),
            value=value,
        )

    diagnosis = diagnose_system(
        since=WINDOW_START,
        until=WINDOW_START + dt.timedelta(minutes=3),
        baseline_since=BASELINE_START,
        baseline_until=BASELINE_START + dt.timedelta(minutes=1),
    )

    assert [(s.service, round(s.score, 1)) for s in diagnosis.suspects] == [
        ("ts-contacts-service", 50.0)
    ]


@pytest.mark.django_db
def test_diagnose_system_with_no_telemetry_names_nobody():
    diagnosis = diagnose_system(
        since=WINDOW_START,
        until=WINDOW_START + dt.timedelta(minutes=3),
        baseline_since=BASELINE_START,
        baseline_until=BASELINE_START + dt.timedelta(minutes=1),
    )

    assert diagnosis.suspects == []
    assert diagnosis.root_cause_service is None


SYSTEM_URL = "/api/platform/helpdesk/system-diagnosis"


@pytest.mark.django_db
def test_system_diagnosis_endpoint_ranks_services(operator_client):
    calls_create(start=BASELINE_START, count=20, logs_line_372=True)
    calls_create(start=WINDOW_START, count=20, logs_line_372=False)

    response = operator_client.get(
        SYSTEM_URL,
        {
            "since": "2023-01-29T10:26:00Z",
            "until": "2023-01-29T10:27:00Z",
            "baseline_since": "2023-01-29T08:50:00",
            "baseline_until": "2023-01-29T10:51:00+02:00",
        },
    )
    body = response.json()

    assert response.status_code == 200
    assert body["root_cause_service"] == "ts-travel2-service"
    assert body["baseline_since"] == "2023-01-29T08:50:00+00:00"
    assert body["baseline_until"] == "2023-01-29T08:51:00+00:00"
    assert [suspect["service"] for suspect in body["suspects"]] == ["ts-travel2-service"]
    assert (body["units_checked"], body["baseline_units"]) == (16, 16)


@pytest.mark.django_db
def test_system_diagnosis_defaults_to_the_last_quarter_hour(operator_client):
    response = operator_client.get(SYSTEM_URL)
    body = response.json()
    since = dt.datetime.fromisoformat(body["since"])
    until = dt.datetime.fromisoformat(body["until"])

    assert response.status_code == 200
    assert until - since == dt.timedelta(minutes=15)
    assert dt.datetime.fromisoformat(body["baseline_until"]) == since
    assert since - dt.datetime.fromisoformat(body["baseline_since"]) == dt.timedelta(hours=1)
    assert body["suspects"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"since": "2023-01-29T10:30:00Z", "until": "2023-01-29T10:26:00Z"},
            "since",
            "The window starts at 2023-01-29T10:30:00+00:00, not before its end "
            "2023-01-29T10:26:00+00:00: give a start earlier than the end.",
        ),
        (
            {"since": "2023-01-29T00:00:00Z", "until": "2023-01-29T10:00:00Z"},
            "since",
            "The window from 2023-01-29T00:00:00+00:00 to 2023-01-29T10:00:00+00:00 is longer "
            "than 6 hours: choose a shorter window.",
        ),
        (
            {
                "since": "2023-01-29T10:26:00Z",
                "until": "2023-01-29T10:29:00Z",
                "baseline_since": "2023-01-29T10:00:00Z",
                "baseline_until": "2023-01-29T10:27:00Z",
            },
            "baseline_since",
            "The baseline 2023-01-29T10:00:00+00:00 to 2023-01-29T10:27:00+00:00 overlaps the "
            "window 2023-01-29T10:26:00+00:00 to 2023-01-29T10:29:00+00:00: choose a fault-free "
            "period before or after the window.",
        ),
        (
            {
                "since": "2023-01-29T10:26:00Z",
                "until": "2023-01-29T10:29:00Z",
                "baseline_since": "2023-01-27T10:00:00Z",
                "baseline_until": "2023-01-29T10:00:00Z",
            },
            "baseline_since",
            "The baseline from 2023-01-27T10:00:00+00:00 to 2023-01-29T10:00:00+00:00 is longer "
            "than 24 hours: choose a shorter baseline.",
        ),
    ],
)
def test_system_diagnosis_rejects_bad_periods(operator_client, params, field, message):
    response = operator_client.get(SYSTEM_URL, params)

    assert response.status_code == 422
    assert response.json() == {"message": message, "errors": [{"field": field, "message": message}]}


@pytest.mark.django_db
def test_system_diagnosis_rejects_unreadable_time(operator_client):
    response = operator_client.get(SYSTEM_URL, {"since": "yesterday"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "since"


@pytest.mark.django_db
def test_system_diagnosis_needs_login(client):
    assert client.get(SYSTEM_URL).status_code == 401


PAGE_URL = "/issues/system/"


@pytest.mark.django_db
def test_system_page_opens_with_form_only(operator_client):
    response = operator_client.get(PAGE_URL)

    assert response.status_code == 200
    assert response.context["diagnosis"] is None
    assert b"Which service changed its behaviour?" in response.content


@pytest.mark.django_db
def test_system_page_lists_suspects(operator_client):
    calls_create(start=WINDOW_START - dt.timedelta(hours=1), count=20, logs_line_372=True)
    calls_create(start=WINDOW_START, count=20, logs_line_372=False)

    response = operator_client.get(
        PAGE_URL, {"window": "15m", "until": "2023-01-29T10:40", "baseline": "hour_before"}
    )
    diagnosis = response.context["diagnosis"]

    assert response.status_code == 200
    assert diagnosis.since == dt.datetime(2023, 1, 29, 10, 25, tzinfo=dt.UTC)
    assert diagnosis.baseline_since == dt.datetime(2023, 1, 29, 9, 25, tzinfo=dt.UTC)
    assert diagnosis.root_cause_service == "ts-travel2-service"
    assert b"did not log t.s.TravelServiceImpl#372" in response.content


@pytest.mark.django_db
def test_system_page_compares_with_day_before(operator_client):
    response = operator_client.get(
        PAGE_URL, {"window": "1h", "until": "2023-01-29T10:40", "baseline": "day_before"}
    )
    diagnosis = response.context["diagnosis"]

    assert diagnosis.baseline_since == dt.datetime(2023, 1, 28, 9, 40, tzinfo=dt.UTC)
    assert diagnosis.baseline_until == dt.datetime(2023, 1, 28, 10, 40, tzinfo=dt.UTC)
    assert b"Nothing to compare with: the baseline period has no traced calls." in response.content


@pytest.mark.django_db
def test_system_page_rejects_unknown_window(operator_client):
    response = operator_client.get(PAGE_URL, {"window": "2d", "baseline": "hour_before"})

    assert response.status_code == 400
    assert response.context["diagnosis"] is None
    assert b"Select a valid choice. 2d is not one of the available choices." in response.content


NOW = dt.datetime(2023, 1, 29, 12, 0, tzinfo=dt.UTC)


def test_periods_baseline_lasts_an_hour_from_its_start():
    periods = periods_resolve(
        now=NOW,
        since=WINDOW_START,
        until=WINDOW_START + dt.timedelta(minutes=3),
        baseline_since=BASELINE_START,
    )

    assert periods.baseline_until == BASELINE_START + dt.timedelta(hours=1)


def test_periods_reject_future_until():
    with pytest.raises(PeriodError) as error:
        periods_resolve(now=NOW, until=NOW + dt.timedelta(minutes=5))

    assert error.value.field == "until"
    assert str(error.value) == (
        "until 2023-01-29T12:05:00+00:00 is in the future (now is 2023-01-29T12:00:00+00:00): "
        "give a time up to now, or leave it out to end the window now."
    )


def test_periods_reject_times_before_1970():
    with pytest.raises(PeriodError) as error:
        periods_resolve(now=NOW, until=dt.datetime(1, 1, 1, 0, 10, tzinfo=dt.UTC))

    assert error.value.field == "until"
    assert str(error.value) == (
        "until 0001-01-01T00:10:00+00:00 is before 1970-01-01T00:00:00+00:00, where telemetry "
        "times start: give a later time."
    )


def test_periods_reject_starts_near_1970():
    with pytest.raises(PeriodError) as error:
        periods_resolve(now=NOW, until=dt.datetime(1970, 1, 1, 0, 5, tzinfo=dt.UTC))

    assert error.value.field == "until"
    assert str(error.value) == (
        "The periods start too close to 1970-01-01T00:00:00+00:00, where telemetry times "
        "start: choose periods at least an hour later."
    )


@pytest.mark.django_db
def test_diagnose_system_rejects_a_period_over_the_limit(monkeypatch):
    monkeypatch.setattr(system, "LOG_LIMIT", 30)
    calls_create(start=WINDOW_START, count=20, logs_line_372=True)

    with pytest.raises(PeriodError) as error:
        diagnose_system(
            since=WINDOW_START,
            until=WINDOW_START + dt.timedelta(minutes=1),
            baseline_since=BASELINE_START,
            baseline_until=BASELINE_START + dt.timedelta(minutes=1),
        )

    assert error.value.field == "since"
    assert str(error.value) == (
        "The window from 2023-01-29T10:26:00+00:00 to 2023-01-29T10:27:00+00:00 contains more "
        "than 30 log records, more than one diagnosis reads: choose a shorter window."
    )


@pytest.mark.django_db
def test_late_records_do_not_look_missing():
    calls_create(start=BASELINE_START, count=20, logs_line_372=True)
    calls_create(start=WINDOW_START, count=20, logs_line_372=True)
    # The last 10 calls' records have not arrived yet.
    LogRecord.objects.filter(timestamp__gte=WINDOW_START + dt.timedelta(seconds=10)).delete()

    diagnosis = diagnose_system(
        since=WINDOW_START,
        until=WINDOW_START + dt.timedelta(minutes=1),
        baseline_since=BASELINE_START,
        baseline_until=BASELINE_START + dt.timedelta(minutes=1),
    )

    assert diagnosis.units_checked == 6
    assert diagnosis.suspects == []


@pytest.mark.django_db
def test_system_page_counts_time_across_daylight_saving(operator_client):
    operator_client.cookies["operator_tz"] = "America/New_York"

    response = operator_client.get(
        PAGE_URL, {"window": "15m", "until": "2026-03-08T03:10", "baseline": "hour_before"}
    )
    diagnosis = response.context["diagnosis"]

    assert response.status_code == 200
    assert diagnosis.until == dt.datetime(2026, 3, 8, 7, 10, tzinfo=dt.UTC)
    assert diagnosis.since == dt.datetime(2026, 3, 8, 6, 55, tzinfo=dt.UTC)
    assert diagnosis.baseline_since == dt.datetime(2026, 3, 8, 5, 55, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_system_page_rejects_year_one(operator_client):
    response = operator_client.get(
        PAGE_URL, {"window": "15m", "until": "0001-01-01T00:10", "baseline": "hour_before"}
    )

    assert response.status_code == 400
    assert b"This time is too close to the start of the calendar: give a time after 1970." in (
        response.content
    )
