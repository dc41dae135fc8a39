"""System diagnosis: which service of the whole platform changed its behaviour in a time window.

A customer diagnosis reasons over one customer's failing calls. A fault in a shared service often
leaves no failing span at all: an exception thrown inside a method ends that method's work early,
its caller logs the error, and a service that returns a wrong value fails nobody's call. So the
system diagnosis compares each service's behaviour in the window with a fault-free baseline
period, reading only what ingest stored:

- broken patterns. A service's part of a trace is a unit: its entry span (called from another
  service, or the root), the spans it opened below it and the records it logged under them. In
  the baseline, some statements nearly always log together within a unit ("if this one logged,
  that one logs too", or "this operation always logs that"). A pattern whose second statement
  goes missing far more often than the baseline allows (a one-sided binomial test) points at the
  code path that changed. A caller's misses in traces where a service it called broke too are
  left to that service, because the fault is where the trouble starts;
- saturation: a service's CPU or memory use near its limit and far above its own level just
  before the window.

NOTE: the thresholds were chosen on one day of Train Ticket data (docs/evaluation.md), which is
also where they are measured, so the accuracy reported there is optimistic for other systems.
"""

import logging
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from diagnostics.text import message_excerpt, message_template
from telemetry.models import Interaction, LogRecord, MetricSample

logger = logging.getLogger(__name__)

# A unit counts only once its entry span ended this long before the window's end, or before the
# newest log record stored for the window when records arrive later than spans. So a trace cut
# off at the end of the window, or whose records are still on their way, does not look broken.
SETTLE = timedelta(seconds=3)
# Spans and records are read from this long before the window, so that a unit whose entry span
# started just before it is recognised as such rather than split into fragments.
LEAD = timedelta(minutes=1)
# Bounds on the rows one diagnosis reads, so a busy platform cannot exhaust the worker's memory.
# A period with more is rejected: cut off, its records would look like missing statements.
SPAN_LIMIT = 500_000
LOG_LIMIT = 500_000
# A pattern counts when the first statement logged in this many baseline units at least ...
PATTERN_MIN_SUPPORT = 5
# ... and the second logged with it in this share of them.
PATTERN_MIN_SHARE = 0.95
# A pattern breaks when the chance of this many misses at the baseline's rate is at most
# 10 ** -BREAK_MIN_SCORE and it was missed at least BREAK_MIN_MISSES times. One or two missing
# records are not an incident, however rare they were in the baseline.
BREAK_MIN_SCORE = 3.0
BREAK_MIN_MISSES = 3
# The normal quantile of the bound on the baseline's miss rate (95%, one-sided 97.5%).
BASELINE_RATE_Z = 1.96
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
# The limit of a reading by its unit: percent, or a ratio (UCUM "1", or no unit). Readings in
# any other unit, such as bytes, say nothing about a limit and are skipped.
SATURATION_LIMITS = {"%": 100.0, "1": 1.0, "": 1.0}
# Code location attributes of a log record, in the current then the older semantic conventions.
CODE_FUNCTION_KEYS = ("code.function.name", "code.function")
CODE_NAMESPACE_KEYS = ("code.namespace",)
CODE_LINE_KEYS = ("code.line.number", "code.lineno")
ENTRY_EVENT_PREFIX = "entry:"
RANK_LIMIT = 10
EVIDENCE_PER_SUSPECT = 3
EXAMPLE_LENGTH = 80
# Request bounds: longer windows would read more rows than one request should.
WINDOW_DEFAULT = timedelta(minutes=15)
WINDOW_MAX = timedelta(hours=6)
BASELINE_DEFAULT = timedelta(hours=1)
BASELINE_MAX = timedelta(hours=24)
# OTLP times count nanoseconds from 1970, so no telemetry is older.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# A window may end this far after the server's clock, which allows for clocks a little apart.
FUTURE_TOLERANCE = timedelta(minutes=1)

UnitKey = tuple[str, str]


@dataclass
class TraceUnit:
    """One service's part of one trace: its entry operation and the statements it logged."""

    service: str
    operation: str
    started_at: datetime
    ended_at: datetime
    events: set[str] = field(default_factory=set)
    key: UnitKey = ("", "")
    # The unit of the service that called this one, when it is known.
    caller: UnitKey | None = None

    @property
    def cues(self) -> set[str]:
        """Return what a pattern may start from: each logged statement and the entry operation."""
        return self.events | {ENTRY_EVENT_PREFIX + self.operation}


@dataclass
class UnitSet:
    units: list[TraceUnit]
    # An example message of each statement, for evidence an operator can read.
    examples: dict[str, str]


@dataclass
class Patterns:
    """How often each statement logged in the baseline, and how often another logged with it."""

    cue_counts: Counter
    event_counts: dict[tuple[str, str], Counter]
    units: int
    # expected() per (service, cue), because it is called for every cue of every unit in each of
    # three passes.
    expectations: dict[tuple[str, str], list[tuple[str, float]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def expected(self, *, service: str, cue: str) -> list[tuple[str, float]]:
        """Return the statements expected with `cue` and the baseline's miss rate of each."""
        key = (service, cue)
        if key not in self.expectations:
            self.expectations[key] = self.expectations_compute(key=key)
        return self.expectations[key]

    def expectations_compute(self, *, key: tuple[str, str]) -> list[tuple[str, float]]:
        support = self.cue_counts[key]
        if support < PATTERN_MIN_SUPPORT:
            return []
        return [
            (event, miss_rate(support=support, seen=seen))
            for event, seen in self.event_counts[key].items()
            if event != key[1] and seen / support >= PATTERN_MIN_SHARE
        ]

    def count(self) -> int:
        """Return how many patterns the baseline taught."""
        return sum(len(self.expected(service=service, cue=cue)) for service, cue in self.cue_counts)


@dataclass(frozen=True)
class PatternBreak:
    service: str
    cue: str
    missing: str
    units: int
    misses: int
    # The maximum number of misses the baseline allows: units times the rate's upper bound.
    expected_misses: float
    # Minus the base-10 logarithm of the chance of this many misses at the baseline's rate.
    score: float


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
    patterns_learned: int

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

    The window ends now unless `until` is given and lasts 15 minutes unless `since` is given. The
    baseline lasts an hour from `baseline_since` or up to `baseline_until`, and with neither it
    is the hour before the window. It may lie before or after the window but not overlap it.
    """
    requested = {
        "since": since,
        "until": until,
        "baseline_since": baseline_since,
        "baseline_until": baseline_until,
    }
    for name, value in requested.items():
        if value is not None and value < EARLIEST:
            raise PeriodError(
                field=name,
                message=(
                    f"{name} {value.isoformat()} is before {EARLIEST.isoformat()}, where "
                    "telemetry times start: give a later time."
                ),
            )
    if until is not None and until > now + FUTURE_TOLERANCE:
        raise PeriodError(
            field="until",
            message=(
                f"until {until.isoformat()} is in the future (now is {now.isoformat()}): give "
                "a time up to now, or leave it out to end the window now."
            ),
        )

    until = until or now
    since = since or until - WINDOW_DEFAULT
    if baseline_since is None and baseline_until is None:
        baseline_until = since
    if baseline_since is None:
        baseline_since = baseline_until - BASELINE_DEFAULT
    if baseline_until is None:
        baseline_until = baseline_since + BASELINE_DEFAULT

    window_field = (
        "until" if requested["until"] is not None and requested["since"] is None else "since"
    )
    period_check(field=window_field, start=since, end=until, longest=WINDOW_MAX, name="window")
    baseline_field = "baseline_until" if requested["baseline_since"] is None else "baseline_since"
    period_check(
        field=baseline_field,
        start=baseline_since,
        end=baseline_until,
        longest=BASELINE_MAX,
        name="baseline",
    )
    if baseline_since < until and since < baseline_until:
        raise PeriodError(
            field=baseline_field,
            message=(
                f"The baseline {baseline_since.isoformat()} to {baseline_until.isoformat()} "
                f"overlaps the window {since.isoformat()} to {until.isoformat()}: choose a "
                "fault-free period before or after the window."
            ),
        )
    if min(since, baseline_since) - LEAD - SATURATION_LOOKBACK < EARLIEST:
        raise PeriodError(
            field=window_field,
            message=(
                f"The periods start too close to {EARLIEST.isoformat()}, where telemetry "
                "times start: choose periods at least an hour later."
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
    """Rank the services most likely to have caused the trouble between `since` and `until`.

    Raise PeriodError when a period contains more spans or log records than one diagnosis reads.
    """
    baseline = trace_units_collect(since=baseline_since, until=baseline_until, name="baseline")
    patterns = patterns_learn(units=baseline.units)
    window = trace_units_collect(since=since, until=until, name="window")
    saturation = saturation_find(since=since, until=until)
    examples = {**baseline.examples, **window.examples}

    suspects: dict[str, ServiceSuspect] = {}
    described: set[tuple[str, str]] = set()
    breaks = pattern_breaks_find(units=window.units, patterns=patterns, saturated=set(saturation))
    for found in breaks:
        suspect = suspects.setdefault(found.service, ServiceSuspect(service=found.service))
        suspect.score = max(suspect.score, found.score)
        # One line per missing statement: the cues that miss it tell the same story.
        if (found.service, found.missing) in described:
            continue
        described.add((found.service, found.missing))
        if len(suspect.evidence) < EVIDENCE_PER_SUSPECT:
            suspect.evidence.append(pattern_break_describe(found=found, examples=examples))
    for service, (z_score, text) in saturation.items():
        suspect = suspects.setdefault(service, ServiceSuspect(service=service))
        suspect.score += min(z_score, SATURATION_CAP)
        suspect.evidence.append(text)

    ranked = sorted(suspects.values(), key=lambda suspect: (-suspect.score, suspect.service))
    logger.info(
        "System diagnosed",
        extra={
            "since": since.isoformat(),
            "until": until.isoformat(),
            "units": len(window.units),
            "baseline_units": len(baseline.units),
            "root_cause_service": ranked[0].service if ranked else None,
        },
    )
    return SystemDiagnosis(
        since=since,
        until=until,
        baseline_since=baseline_since,
        baseline_until=baseline_until,
        suspects=ranked[:RANK_LIMIT],
        units_checked=len(window.units),
        baseline_units=len(baseline.units),
        patterns_learned=patterns.count(),
    )


def diagnose_periods(*, periods: Periods) -> SystemDiagnosis:
    """Diagnose the window of checked `periods` against their baseline."""
    return diagnose_system(
        since=periods.since,
        until=periods.until,
        baseline_since=periods.baseline_since,
        baseline_until=periods.baseline_until,
    )


def trace_units_collect(*, since: datetime, until: datetime, name: str) -> UnitSet:
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
        )[: SPAN_LIMIT + 1]
    )
    records = list(
        LogRecord.objects.filter(timestamp__gte=since - LEAD, timestamp__lt=until)
        .exclude(trace_id="")
        .order_by()
        .values_list("trace_id", "span_id", "template_id", "attributes", "body", "timestamp")[
            : LOG_LIMIT + 1
        ]
    )
    for rows, limit, kind in ((spans, SPAN_LIMIT, "spans"), (records, LOG_LIMIT, "log records")):
        if len(rows) > limit:
            raise PeriodError(
                field="since" if name == "window" else "baseline_since",
                message=(
                    f"The {name} from {since.isoformat()} to {until.isoformat()} contains more "
                    f"than {limit:,} {kind}, more than one diagnosis reads: choose a shorter "
                    f"{name}."
                ),
            )

    newest_record = max((row[5] for row in records), default=until)
    horizon = min(until, newest_record) - SETTLE
    return trace_units_build(spans=spans, records=records, since=since, until=horizon)


def trace_units_build(
    *, spans: list[tuple], records: Iterable[tuple], since: datetime, until: datetime
) -> UnitSet:
    """Group spans into units by their entry span and attach each log record to its unit.

    Rows of `spans`: trace id, span id, parent span id, service, operation, start, duration in
    milliseconds. Rows of `records`: trace id, span id, template id, attributes, body and
    optionally more columns. Only units that started at `since` or later and ended by `until`
    are returned.
    """
    parents = {}
    for trace_id, span_id, parent_id, service, operation, started_at, duration_ms in spans:
        parents.setdefault(
            (trace_id, span_id), (parent_id, service, operation, started_at, duration_ms)
        )

    entries: dict[UnitKey, UnitKey] = {}
    units: dict[UnitKey, TraceUnit] = {}
    for key in parents:
        entry = entry_span(key=key, parents=parents, entries=entries)
        if entry not in units:
            parent_id, service, operation, started_at, duration_ms = parents[entry]
            units[entry] = TraceUnit(
                service=service,
                operation=operation,
                started_at=started_at,
                ended_at=started_at + timedelta(milliseconds=duration_ms),
                key=entry,
            )
    for entry, unit in units.items():
        unit.caller = entries.get((entry[0], parents[entry][0]))

    examples: dict[str, str] = {}
    for trace_id, span_id, template_id, attributes, body, *_rest in records:
        entry = entries.get((trace_id, span_id))
        if entry is None:
            continue
        statement = statement_key(attributes, template_id, body)
        units[entry].events.add(statement)
        if statement not in examples:
            examples[statement] = message_excerpt(
                text=message_template(text=body or ""), limit=EXAMPLE_LENGTH
            )

    complete = [
        unit for unit in units.values() if unit.started_at >= since and unit.ended_at <= until
    ]
    return UnitSet(units=complete, examples=examples)


def entry_span(*, key: UnitKey, parents: dict, entries: dict) -> UnitKey:
    """Return the span where the trace entered this span's service, caching along the path."""
    path: list[UnitKey] = []
    seen: set[UnitKey] = set()
    trace_id = key[0]
    service = parents[key][1]
    while key not in entries:
        path.append(key)
        seen.add(key)
        parent = (trace_id, parents[key][0])
        # A cycle of parent ids would loop forever, so the first repeated span ends the walk.
        if parent not in parents or parents[parent][1] != service or parent in seen:
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
    """Return the highest miss rate the baseline is consistent with: its 95% Wilson bound.

    A short baseline that never saw a miss does not prove misses never happen: 10 units
    without one still allow a rate of about 28%, so only a window far above that breaks.
    """
    share = (support - seen) / support
    z_squared = BASELINE_RATE_Z**2
    centre = share + z_squared / (2 * support)
    spread = BASELINE_RATE_Z * math.sqrt(
        share * (1 - share) / support + z_squared / (4 * support**2)
    )
    return min((centre + spread) / (1 + z_squared / support), 1 - 1e-9)


def binomial_tail_score(*, trials: int, successes: int, rate: float) -> float:
    """Return -log10 of the chance of `successes` or more in `trials` tries at `rate`.

    Summed in log space from the first term, which is the largest when `successes` is above
    the expected count, and stopped once the terms no longer change the sum.
    """
    if successes <= 0:
        return 0.0
    log_rate, log_rest = math.log(rate), math.log1p(-rate)
    first = (
        math.lgamma(trials + 1)
        - math.lgamma(successes + 1)
        - math.lgamma(trials - successes + 1)
        + successes * log_rate
        + (trials - successes) * log_rest
    )
    total, term = 1.0, 0.0
    for count in range(successes + 1, trials + 1):
        term += math.log((trials - count + 1) / count) + log_rate - log_rest
        share = math.exp(term)
        total += share
        if share < 1e-12 * total:
            break
    return max(0.0, -(first + math.log(total)) / math.log(10))


def pattern_breaks_find(
    *, units: list[TraceUnit], patterns: Patterns, saturated: set[str] | None = None
) -> list[PatternBreak]:
    """Return the patterns missed far more often than in the baseline, the strongest first.

    Two passes: the first finds the patterns that break, counting every miss. The second
    counts again without the misses of units that called a service whose own unit in the same
    trace broke one of those patterns or is saturated: that trouble started downstream.
    """
    breaks = breaks_count(units=units, patterns=patterns, explained=set())
    broken = {(found.service, found.cue, found.missing) for found in breaks}
    troubled = [
        unit
        for unit in units
        if unit.service in (saturated or set()) or unit_breaks(unit, patterns, broken)
    ]
    explained = callers_of(units=units, troubled=troubled)
    if not explained:
        return breaks
    return breaks_count(units=units, patterns=patterns, explained=explained)


def unit_breaks(unit: TraceUnit, patterns: Patterns, broken: set[tuple[str, str, str]]) -> bool:
    return any(
        event not in unit.events and (unit.service, cue, event) in broken
        for cue in unit.cues
        for event, _rate in patterns.expected(service=unit.service, cue=cue)
    )


def callers_of(*, units: list[TraceUnit], troubled: list[TraceUnit]) -> set[UnitKey]:
    """Return the keys of every unit above a troubled unit in its trace."""
    by_key = {unit.key: unit for unit in units}
    explained: set[UnitKey] = set()
    for unit in troubled:
        caller = unit.caller
        while caller is not None and caller not in explained and caller in by_key:
            explained.add(caller)
            caller = by_key[caller].caller
    return explained


def breaks_count(
    *, units: list[TraceUnit], patterns: Patterns, explained: set[UnitKey]
) -> list[PatternBreak]:
    opportunities: Counter = Counter()
    misses: Counter = Counter()
    rates: dict[tuple[str, str, str], float] = {}
    for unit in units:
        for cue in unit.cues:
            for event, rate in patterns.expected(service=unit.service, cue=cue):
                key = (unit.service, cue, event)
                rates[key] = rate
                opportunities[key] += 1
                if event not in unit.events and unit.key not in explained:
                    misses[key] += 1

    found = []
    for key, count in opportunities.items():
        missed = misses[key]
        expected_misses = count * rates[key]
        if missed < BREAK_MIN_MISSES or missed <= expected_misses:
            continue
        score = binomial_tail_score(trials=count, successes=missed, rate=rates[key])
        if score >= BREAK_MIN_SCORE:
            found.append(
                PatternBreak(
                    service=key[0],
                    cue=key[1],
                    missing=key[2],
                    units=count,
                    misses=missed,
                    expected_misses=expected_misses,
                    score=score,
                )
            )
    # On a tie a statement is the more precise cue than the entry operation, so it comes first.
    return sorted(
        found,
        key=lambda item: (
            -item.score,
            item.cue.startswith(ENTRY_EVENT_PREFIX),
            item.service,
            item.cue,
            item.missing,
        ),
    )


def pattern_break_describe(*, found: PatternBreak, examples: dict[str, str]) -> str:
    if found.cue.startswith(ENTRY_EVENT_PREFIX):
        calls = f"calls to {found.cue.removeprefix(ENTRY_EVENT_PREFIX)}"
    else:
        calls = f"calls that logged {statement_describe(found.cue, examples)}"
    if found.expected_misses < 0.1:
        usual = "the baseline almost never missed it"
    else:
        usual = f"the baseline allows about {found.expected_misses:,.1f}"
    return (
        f"{found.service}: {found.misses:,} of {found.units:,} {calls} did not log "
        f"{statement_describe(found.missing, examples)} ({usual})"
    )


def statement_describe(statement: str, examples: dict[str, str]) -> str:
    example = examples.get(statement, "")
    if not example or example == statement:
        return statement
    return f'{statement} "{example}"'


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
    """Score readings in percent or as ratios of the limit; skip readings in other units."""
    before: dict[tuple[str, str], list[float]] = defaultdict(list)
    during: dict[tuple[str, str], list[float]] = defaultdict(list)
    limits: dict[tuple[str, str], float] = {}
    for service, name, unit, timestamp, value in samples:
        if unit not in SATURATION_LIMITS:
            continue
        (before if timestamp < since else during)[(service, name)].append(value)
        limits[(service, name)] = SATURATION_LIMITS[unit]

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
            text = (
                f"{service}: {name} reached {peak / limit:.0%} of its limit against a level "
                f"of {level / limit:.0%} before the window"
            )
            scores[service] = (z_score, text)
    return scores
