"""System diagnosis: which service of the whole platform changed its behaviour in a time window.

A customer diagnosis reasons over one customer's failing calls. A fault in a shared service often
leaves no failing span at all: an exception thrown inside a method ends that method's work early,
its caller logs the error, and a service that returns a wrong value fails nobody's call. So the
system diagnosis compares each service's behaviour in the window with a fault-free baseline
period, reading only what ingest stored:

- broken patterns. A service's part of a trace is a unit: its entry span (called from another
  service, or the root), the spans it opened below it and the records it logged under them. In
  the baseline, some statements nearly always log event_counts within a unit ("if this one logged,
  that one logs too", or "this operation always logs that"). A pattern whose second statement
  goes missing far more often than in the baseline, measured as a z-score of the excess misses,
  points at the code path that changed;
- saturation: a service's CPU or memory use far above its own level just before the window.

NOTE: the thresholds were chosen on one day of Train Ticket data (docs/evaluation.md), which is
also where they are measured, so the accuracy reported there is optimistic for other systems.
"""

import logging
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from diagnostics.text import message_template
from telemetry.models import Interaction, LogRecord, MetricSample

logger = logging.getLogger(__name__)

# A unit is complete only once its entry span ended this long before the window's end, so a
# trace cut off at the end of the window does not look like a broken one.
SETTLE = timedelta(seconds=3)
# Spans and records are read from this long before the window, so that a unit whose entry span
# started just before it is recognised as such rather than split into fragments.
LEAD = timedelta(minutes=1)
# Bounds on the rows one diagnosis reads, so a busy platform cannot exhaust the worker's memory.
SPAN_LIMIT = 500_000
LOG_LIMIT = 500_000
# A pattern counts when the first statement logged in this many baseline units at least ...
PATTERN_MIN_SUPPORT = 5
# ... and the second logged with it in this share of them.
PATTERN_MIN_SHARE = 0.95
# Excess misses must be this many standard deviations above the baseline's miss rate.
BREAK_MIN_Z = 3.0
# Saturation: the highest reading is this many standard deviations above the level before the
# window and at this share of the limit or more. A jump from 2% to 27% CPU is a change, not
# saturation. The z-score joins the service's score, capped so one reading cannot outweigh all.
SATURATION_MIN_Z = 5.0
SATURATION_MIN_SHARE = 0.8
SATURATION_CAP = 50.0
SATURATION_LOOKBACK = timedelta(minutes=20)
SATURATION_METRICS = (
    "pod.cpu.usage_rate",
    "pod.memory.usage_rate",
    "container.cpu.utilization",
    "container.memory.utilization",
    "k8s.pod.cpu.utilization",
    "k8s.pod.memory.utilization",
    "process.cpu.utilization",
)
# Code location attributes of a log record, in the current then the older semantic conventions.
CODE_FUNCTION_KEYS = ("code.function.name", "code.function")
CODE_NAMESPACE_KEYS = ("code.namespace",)
CODE_LINE_KEYS = ("code.line.number", "code.lineno")
ENTRY_EVENT_PREFIX = "entry:"
RANK_LIMIT = 10
# Request bounds: longer windows would read more rows than one request should.
WINDOW_DEFAULT = timedelta(minutes=15)
WINDOW_MAX = timedelta(hours=6)
BASELINE_DEFAULT = timedelta(hours=1)
BASELINE_MAX = timedelta(hours=24)
EVIDENCE_PER_SUSPECT = 3


@dataclass
class TraceUnit:
    """One service's part of one trace: its entry operation and the statements it logged."""

    service: str
    operation: str
    started_at: datetime
    ended_at: datetime
    events: set[str] = field(default_factory=set)

    @property
    def cues(self) -> set[str]:
        """Return what a pattern may start from: each logged statement and the entry operation."""
        return self.events | {ENTRY_EVENT_PREFIX + self.operation}


@dataclass
class Patterns:
    """How often each statement logged in the baseline, and how often another logged with it."""

    cue_counts: Counter
    event_counts: dict[tuple[str, str], Counter]
    units: int

    def expected(self, *, service: str, cue: str) -> list[tuple[str, float]]:
        """Return the statements expected with `cue` and the baseline's miss rate of each."""
        support = self.cue_counts[(service, cue)]
        if support < PATTERN_MIN_SUPPORT:
            return []
        return [
            (event, miss_rate(support=support, seen=seen))
            for event, seen in self.event_counts[(service, cue)].items()
            if event != cue and seen / support >= PATTERN_MIN_SHARE
        ]


@dataclass(frozen=True)
class PatternBreak:
    service: str
    cue: str
    missing: str
    units: int
    misses: int
    expected_misses: float
    z_score: float


@dataclass
class ServiceSuspect:
    service: str
    score: float = 0.0
    evidence: list[str] = field(default_factory=list)


@dataclass
class SystemDiagnosis:
    since: datetime
    until: datetime
    baseline_since: datetime
    baseline_until: datetime
    suspects: list[ServiceSuspect]
    units_checked: int
    baseline_units: int

    @property
    def root_cause_service(self) -> str | None:
        return self.suspects[0].service if self.suspects else None


class PeriodError(ValueError):
    """A window or baseline period that cannot be diagnosed; `field` names the parameter."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Periods:
    since: datetime
    until: datetime
    baseline_since: datetime
    baseline_until: datetime


def periods_resolve(
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    baseline_since: datetime | None = None,
    baseline_until: datetime | None = None,
) -> Periods:
    """Fill in the defaults and check the window and its baseline.

    The window defaults to the last 15 minutes and the baseline to the hour before the window.
    A baseline may lie before or after the window but must not overlap it.
    """
    until = until or now
    since = since or until - WINDOW_DEFAULT
    baseline_until = baseline_until or since
    baseline_since = baseline_since or baseline_until - BASELINE_DEFAULT

    period_check(field="since", start=since, end=until, longest=WINDOW_MAX, name="window")
    period_check(
        field="baseline_since",
        start=baseline_since,
        end=baseline_until,
        longest=BASELINE_MAX,
        name="baseline",
    )
    if baseline_since < until and since < baseline_until:
        raise PeriodError(
            field="baseline_since",
            message=(
                f"The baseline {baseline_since.isoformat()} to {baseline_until.isoformat()} "
                f"overlaps the window {since.isoformat()} to {until.isoformat()}: choose a "
                "fault-free period before or after the window."
            ),
        )
    return Periods(
        since=since, until=until, baseline_since=baseline_since, baseline_until=baseline_until
    )


def period_check(
    *, field: str, start: datetime, end: datetime, longest: timedelta, name: str
) -> None:
    if start >= end:
        raise PeriodError(
            field=field,
            message=(
                f"The {name} starts at {start.isoformat()}, not before its end "
                f"{end.isoformat()}: give a start earlier than the end."
            ),
        )
    if end - start > longest:
        hours = longest.total_seconds() / 3600
        raise PeriodError(
            field=field,
            message=(
                f"The {name} from {start.isoformat()} to {end.isoformat()} is longer than "
                f"{hours:g} hours: choose a shorter {name}."
            ),
        )


def diagnose_system(
    *,
    since: datetime,
    until: datetime,
    baseline_since: datetime,
    baseline_until: datetime,
) -> SystemDiagnosis:
    """Rank the services most likely to have caused the trouble between `since` and `until`."""
    baseline_units = trace_units_collect(since=baseline_since, until=baseline_until)
    patterns = patterns_learn(units=baseline_units)
    units = trace_units_collect(since=since, until=until)

    suspects: dict[str, ServiceSuspect] = {}
    for found in pattern_breaks_find(units=units, patterns=patterns):
        suspect = suspects.setdefault(found.service, ServiceSuspect(service=found.service))
        suspect.score = max(suspect.score, found.z_score)
        if len(suspect.evidence) < EVIDENCE_PER_SUSPECT:
            suspect.evidence.append(pattern_break_describe(found=found))
    for service, (z_score, text) in saturation_find(since=since, until=until).items():
        suspect = suspects.setdefault(service, ServiceSuspect(service=service))
        suspect.score += min(z_score, SATURATION_CAP)
        suspect.evidence.append(text)

    ranked = sorted(suspects.values(), key=lambda suspect: (-suspect.score, suspect.service))
    logger.info(
        "System diagnosed",
        extra={
            "since": since.isoformat(),
            "until": until.isoformat(),
            "units": len(units),
            "baseline_units": len(baseline_units),
            "root_cause_service": ranked[0].service if ranked else None,
        },
    )
    return SystemDiagnosis(
        since=since,
        until=until,
        baseline_since=baseline_since,
        baseline_until=baseline_until,
        suspects=ranked[:RANK_LIMIT],
        units_checked=len(units),
        baseline_units=len(baseline_units),
    )


def trace_units_collect(*, since: datetime, until: datetime) -> list[TraceUnit]:
    """Return the complete trace units whose entry span started between `since` and `until`."""
    spans = list(
        Interaction.objects.filter(started_at__gte=since - LEAD, started_at__lt=until)
        .order_by()
        .values_list(
            "trace_id",
            "span_id",
            "parent_span_id",
            "service_name",
            "operation",
            "started_at",
            "duration_ms",
        )[:SPAN_LIMIT]
    )
    records = (
        LogRecord.objects.filter(timestamp__gte=since - LEAD, timestamp__lt=until)
        .exclude(trace_id="")
        .order_by()
        .values_list("trace_id", "span_id", "template_id", "attributes", "body")[:LOG_LIMIT]
    )
    return trace_units_build(spans=spans, records=records, since=since, until=until - SETTLE)


def trace_units_build(
    *, spans: list[tuple], records: Iterable[tuple], since: datetime, until: datetime
) -> list[TraceUnit]:
    """Group spans into units by their entry span and attach each log record to its unit.

    Rows of `spans`: trace id, span id, parent span id, service, operation, start, duration in
    milliseconds. Rows of `records`: trace id, span id, template id, attributes, body.
    """
    parents = {}
    for trace_id, span_id, parent_id, service, operation, started_at, duration_ms in spans:
        parents[(trace_id, span_id)] = (parent_id, service, operation, started_at, duration_ms)

    entries: dict[tuple[str, str], tuple[str, str]] = {}
    units: dict[tuple[str, str], TraceUnit] = {}
    for key in parents:
        entry = entry_span(key=key, parents=parents, entries=entries)
        if entry not in units:
            _parent, service, operation, started_at, duration_ms = parents[entry]
            units[entry] = TraceUnit(
                service=service,
                operation=operation,
                started_at=started_at,
                ended_at=started_at + timedelta(milliseconds=duration_ms),
            )

    for trace_id, span_id, template_id, attributes, body in records:
        entry = entries.get((trace_id, span_id))
        if entry is not None:
            units[entry].events.add(statement_key(attributes, template_id, body))
    return [unit for unit in units.values() if unit.started_at >= since and unit.ended_at <= until]


def entry_span(*, key, parents: dict, entries: dict) -> tuple[str, str]:
    """Return the span where the trace entered this span's service, caching along the path."""
    path = []
    trace_id = key[0]
    service = parents[key][1]
    while key not in entries:
        path.append(key)
        parent = (trace_id, parents[key][0])
        # A cycle of parent ids would loop forever, so the first repeated span ends the walk.
        if parent not in parents or parents[parent][1] != service or parent in path:
            entries[key] = key
            break
        key = parent
    entry = entries[key]
    for visited in path:
        entries[visited] = entry
    return entry


def statement_key(attributes, template_id, body: str) -> str:
    """Name the statement that logged a record: its code location, else its mined template."""
    attributes = attributes if isinstance(attributes, dict) else {}
    place = first_value(attributes, CODE_NAMESPACE_KEYS) or first_value(
        attributes, CODE_FUNCTION_KEYS
    )
    line = first_value(attributes, CODE_LINE_KEYS)
    if place and line:
        return f"{place}#{line}"
    if template_id is not None:
        return f"template:{template_id}"
    return message_template(text=body or "")


def first_value(attributes: dict, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = attributes.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def patterns_learn(*, units: list[TraceUnit]) -> Patterns:
    cue_counts: Counter = Counter()
    event_counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for unit in units:
        for cue in unit.cues:
            cue_counts[(unit.service, cue)] += 1
            event_counts[(unit.service, cue)].update(unit.events)
    return Patterns(cue_counts=cue_counts, event_counts=event_counts, units=len(units))


def miss_rate(*, support: int, seen: int) -> float:
    """Return the baseline's miss rate, smoothed so that "never missed" is not a certainty."""
    return (support - seen + 0.5) / (support + 1)


def pattern_breaks_find(*, units: list[TraceUnit], patterns: Patterns) -> list[PatternBreak]:
    """Return the patterns missed far more often than in the baseline, the strongest first."""
    opportunities: Counter = Counter()
    misses: Counter = Counter()
    rates: dict[tuple[str, str, str], float] = {}
    for unit in units:
        for cue in unit.cues:
            for event, rate in patterns.expected(service=unit.service, cue=cue):
                key = (unit.service, cue, event)
                rates[key] = rate
                opportunities[key] += 1
                if event not in unit.events:
                    misses[key] += 1

    found = []
    for key, count in opportunities.items():
        rate = rates[key]
        expected_misses = count * rate
        z_score = (misses[key] - expected_misses) / math.sqrt(count * rate * (1 - rate))
        if z_score >= BREAK_MIN_Z:
            found.append(
                PatternBreak(
                    service=key[0],
                    cue=key[1],
                    missing=key[2],
                    units=count,
                    misses=misses[key],
                    expected_misses=expected_misses,
                    z_score=z_score,
                )
            )
    # On a tie a statement is the more precise cue than the entry operation, so it comes first.
    return sorted(
        found,
        key=lambda item: (
            -item.z_score,
            item.cue.startswith(ENTRY_EVENT_PREFIX),
            item.service,
            item.cue,
            item.missing,
        ),
    )


def pattern_break_describe(*, found: PatternBreak) -> str:
    if found.cue.startswith(ENTRY_EVENT_PREFIX):
        calls = f"calls to {found.cue.removeprefix(ENTRY_EVENT_PREFIX)}"
    else:
        calls = f"calls that logged {found.cue}"
    return (
        f"{found.service}: {found.misses} of {found.units} {calls} did not log {found.missing} "
        f"(about {found.expected_misses:.1f} expected from the baseline)"
    )


def saturation_find(*, since: datetime, until: datetime) -> dict[str, tuple[float, str]]:
    """Return, per service, the z-score of its highest CPU or memory reading in the window."""
    samples = (
        MetricSample.objects.filter(
            name__in=SATURATION_METRICS,
            timestamp__gte=since - SATURATION_LOOKBACK,
            timestamp__lt=until,
        )
        .exclude(service_name="")
        .order_by()
        .values_list("service_name", "name", "unit", "timestamp", "value")
    )
    return saturation_scores(samples=samples, since=since)


def saturation_scores(
    *, samples: Iterable[tuple[str, str, str, datetime, float]], since: datetime
) -> dict[str, tuple[float, str]]:
    """Score readings in percent ("%" unit) or as ratios of the limit (any other unit)."""
    before: dict[tuple[str, str], list[float]] = defaultdict(list)
    during: dict[tuple[str, str], list[float]] = defaultdict(list)
    limits: dict[tuple[str, str], float] = {}
    for service, name, unit, timestamp, value in samples:
        (before if timestamp < since else during)[(service, name)].append(value)
        limits[(service, name)] = 100.0 if unit == "%" else 1.0

    scores: dict[str, tuple[float, str]] = {}
    for key, values in during.items():
        history = before.get(key, [])
        if len(history) < 3:
            continue
        service, name = key
        level, peak, limit = statistics.mean(history), max(values), limits[key]
        # A spread under 1% of the limit counts as 1%, so that a flat series does not turn a
        # small wobble into a huge z-score.
        spread = max(statistics.pstdev(history), limit / 100)
        z_score = (peak - level) / spread
        if peak < SATURATION_MIN_SHARE * limit or z_score < SATURATION_MIN_Z:
            continue
        if z_score > scores.get(service, (0.0, ""))[0]:
            text = f"{service}: {name} reached {peak:g} against a level of {level:.3g}"
            scores[service] = (z_score, text)
    return scores
