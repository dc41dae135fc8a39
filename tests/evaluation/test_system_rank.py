import datetime as dt

import pytest

from evaluation.system_rank import child_counts, log_template, saturation_scores

INJECT = dt.datetime(2023, 1, 29, 13, 31, tzinfo=dt.UTC)


def minute(offset: int) -> dt.datetime:
    return INJECT + dt.timedelta(minutes=offset)


def test_saturation_flags_cpu_jump():
    samples = [
        ("ts-contacts-service", "pod.cpu.usage_rate", minute(-4), 1.0),
        ("ts-contacts-service", "pod.cpu.usage_rate", minute(-3), 1.0),
        ("ts-contacts-service", "pod.cpu.usage_rate", minute(-2), 1.0),
        ("ts-contacts-service", "pod.cpu.usage_rate", minute(1), 61.0),
        ("ts-food-service", "pod.cpu.usage_rate", minute(-3), 2.0),
        ("ts-food-service", "pod.cpu.usage_rate", minute(-2), 2.0),
        ("ts-food-service", "pod.cpu.usage_rate", minute(-1), 2.0),
        ("ts-food-service", "pod.cpu.usage_rate", minute(1), 4.0),
    ]

    scores = saturation_scores(samples=samples, inject_at=INJECT, window=dt.timedelta(minutes=3))

    assert scores == {"ts-contacts-service": pytest.approx(60.0)}


def test_saturation_ignores_other_metrics():
    samples = [("svc", "pod.workload", minute(offset), 1.0) for offset in (-3, -2, -1)]
    samples.append(("svc", "pod.workload", minute(1), 500.0))

    assert (
        saturation_scores(samples=samples, inject_at=INJECT, window=dt.timedelta(minutes=3)) == {}
    )


def test_log_template_drops_logback_prefix():
    body = (
        "17:24:18.321 ERROR e.s.ExecuteServiceImpl#69 TraceID: 8e127a928d027e196fae03efdee53f48 "
        "SpanID: 9f55b1ca5bd2510a [ticketExecute][getOrderByIdFromOrderOther][ticket execute "
        "error: Order Status Wrong]"
    )

    assert log_template(body=body) == (
        "[ticketExecute][getOrderByIdFromOrderOther][ticket execute error: Order Status Wrong]"
    )


def test_child_counts_per_span():
    spans = [
        ("t1", "a", "", "gateway", "/*"),
        ("t1", "b", "a", "travel", "query"),
        ("t1", "c", "a", "route", "get"),
        ("t1", "d", "b", "basic", "query"),
    ]

    kinds, children = child_counts(spans=spans)

    assert kinds[("t1", "b")] == ("travel", "query")
    assert children[("t1", "a")] == 2
    assert children[("t1", "b")] == 1
    assert children[("t1", "c")] == 0
