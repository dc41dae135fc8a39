"""The proactive scan: diagnose customers with recent trouble and keep active issues current.

A run diagnoses a bounded set of customers: those still linked to an open issue, then those with
failed calls in the ongoing window, blocked or stalled trials, firing alerts or an unhealthy agent
instance. Conclusions of a catalog kind that are still ongoing open an active issue or merge into
the open one with the same fingerprint. A customer whose evidence no longer shows the issue is
cleared from it, and an issue without affected customers is resolved.

Every value the scan writes derives from the evidence, not from the run, so running it twice
over the same evidence leaves the same state.
"""

import logging
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Agent, AgentAssignment, Customer, Trial
from diagnostics.catalog import CATALOG
from diagnostics.detectors import STALL_MINIMUM, failed_trial_max_age
from diagnostics.evidence import EvidenceSnapshot, evidence_collect
from diagnostics.models import ActiveIssue, ActiveIssueCustomer, Diagnosis, ScanState
from diagnostics.platform_signals import PlatformObservation, platform_observations_find
from diagnostics.reasoning import (
    HIGH_CONFIDENCE,
    ONGOING_WINDOW,
    Conclusion,
    conclusion_from_snapshot,
)
from diagnostics.services import diagnosis_store
from telemetry.models import Alert, Interaction

logger = logging.getLogger(__name__)

SCAN_NAME = ScanState.ACTIVE_ISSUES
# A closed issue that comes back this soon reopens instead of starting a new one.
REOPEN_WINDOW = timedelta(minutes=30)
# An affected customer's stored diagnosis is replaced once it is this old.
DIAGNOSIS_REFRESH_AGE = timedelta(minutes=10)
# A claimed run that never finished stops blocking the next one after this long.
STALE_RUN_AGE = timedelta(minutes=5)
BLOCKED_TRIAL_STATUSES = (Trial.Status.STUCK, Trial.Status.FAILED)
UNHEALTHY_STATUSES = ("DOWN", "RESTARTING", "DEGRADED")
TRIGGER_CACHE_KEY = "diagnostics:scan-trigger"
# An issue last seen longer ago than this is minor, however many customers it reached.
SEVERITY_RECENT_WINDOW = timedelta(hours=1)


@dataclass
class ScanResult:
    skipped: bool = False
    customers_scanned: int = 0
    customers_failed: int = 0
    issues_opened: int = 0
    issues_updated: int = 0
    issues_resolved: int = 0
    customers_cleared: int = 0
    diagnoses_created: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Observation:
    """One customer's ongoing conclusion, with what the scan stores about it."""

    customer: Customer
    snapshot: EvidenceSnapshot
    conclusion: Conclusion
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    trial_ids: list[str] = field(default_factory=list)


def scan_interval() -> timedelta:
    return timedelta(seconds=getattr(settings, "HELPDESK_SCAN_INTERVAL_SECONDS", 60))


def scan_customer_limit() -> int:
    return getattr(settings, "HELPDESK_SCAN_CUSTOMER_LIMIT", 500)


def critical_customer_count() -> int:
    """Return from how many affected customers a current issue is critical."""
    return getattr(settings, "HELPDESK_CRITICAL_CUSTOMER_COUNT", 3)


def active_issues_scan(
    *, now: datetime | None = None, min_gap: timedelta | None = None
) -> ScanResult:
    """Run the scan. With `min_gap`, skip it when another run started less than that ago."""
    now = now or timezone.now()
    if min_gap is not None and not scan_claim(now=now, min_gap=min_gap):
        logger.info("Active issue scan skipped: ran recently", extra={"scan": SCAN_NAME})
        return ScanResult(skipped=True)

    logger.info("Active issue scan started", extra={"scan": SCAN_NAME})
    result = ScanResult()
    evaluated, observations = customers_observe(now=now, result=result)
    for fingerprint, group in observations_group(observations).items():
        issue_merge(fingerprint=fingerprint, observations=group, now=now, result=result)
    issues_clear(evaluated=evaluated, observations=observations, now=now, result=result)
    covered_agents = {observation.conclusion.component for observation in observations}
    platform_issues_update(now=now, covered_agents=covered_agents, result=result)

    scan_finish(now=now, result=result)
    logger.info("Active issue scan finished", extra={"scan": SCAN_NAME, **result.as_dict()})
    return result


# Claiming a run


def scan_claim(*, now: datetime, min_gap: timedelta) -> bool:
    """Mark a run started unless one started within `min_gap` and is still running or recent."""
    ScanState.objects.get_or_create(name=SCAN_NAME)
    due = Q(started_at__isnull=True) | Q(
        Q(started_at__lt=now - min_gap)
        & (Q(finished_at__gte=F("started_at")) | Q(started_at__lt=now - STALE_RUN_AGE))
    )
    return ScanState.objects.filter(due, name=SCAN_NAME).update(started_at=now) == 1


def scan_finish(*, now: datetime, result: ScanResult) -> None:
    ScanState.objects.update_or_create(
        name=SCAN_NAME,
        defaults={"finished_at": max(now, timezone.now()), "last_result": result.as_dict()},
        create_defaults={"started_at": now, "finished_at": now, "last_result": result.as_dict()},
    )


def active_issues_scan_in_background() -> bool:
    """Start a scan on a thread of this process when due, and return whether one started.

    For the demo, where Celery runs tasks eagerly and no beat process exists. The cache key
    keeps each process from checking more than once per interval; the database claim keeps
    processes from scanning side by side.
    """
    if not getattr(settings, "HELPDESK_SCAN_IN_WEB", False):
        return False
    interval = scan_interval()
    if not cache.add(TRIGGER_CACHE_KEY, True, timeout=interval.total_seconds()):
        return False
    threading.Thread(target=scan_thread_run, name="active-issue-scan", daemon=True).start()
    return True


def scan_thread_run() -> None:
    try:
        active_issues_scan(min_gap=scan_interval())
    except Exception:
        # No caller waits on this thread, so log the error and let the next interval retry.
        logger.exception("Active issue scan failed", extra={"scan": SCAN_NAME})
    finally:
        connections.close_all()


# Choosing and diagnosing customers


def scan_candidates(*, now: datetime) -> list[int]:
    """Return ids of customers to diagnose, linked ones first, at most the scan's limit."""
    limit = scan_customer_limit()
    recent_since = now - ONGOING_WINDOW
    sources = (
        ActiveIssueCustomer.objects.filter(
            issue__status=ActiveIssue.Status.OPEN,
            issue__source=ActiveIssue.Source.CUSTOMERS,
            cleared_at__isnull=True,
        ).values_list("customer_id", flat=True),
        Interaction.objects.filter(
            status__in=(Interaction.Status.FAILED, Interaction.Status.TIMEOUT),
            started_at__gte=recent_since,
            customer__isnull=False,
        )
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct(),
        Trial.objects.filter(
            Q(status=Trial.Status.STUCK)
            | Q(status=Trial.Status.FAILED, last_activity_at__gte=now - failed_trial_max_age())
            | Q(status=Trial.Status.RUNNING, step_started_at__lt=now - STALL_MINIMUM)
        )
        .order_by("-last_activity_at")
        .values_list("customer_id", flat=True),
        AgentAssignment.objects.filter(status__in=UNHEALTHY_STATUSES).values_list(
            "customer_id", flat=True
        ),
        alerting_customers(),
    )
    candidates: dict[int, None] = {}
    for source in sources:
        for customer_id in source[:limit]:
            candidates.setdefault(customer_id)
        if len(candidates) >= limit:
            break
    return list(candidates)[:limit]


def alerting_customers():
    return Alert.objects.filter(status=Alert.Status.FIRING, customer__isnull=False).values_list(
        "customer_id", flat=True
    )


def customers_observe(*, now: datetime, result: ScanResult) -> tuple[set[int], list[Observation]]:
    """Diagnose each candidate and return the ids evaluated and the ongoing conclusions."""
    candidate_ids = scan_candidates(now=now)
    customers = Customer.objects.in_bulk(candidate_ids)
    evaluated: set[int] = set()
    observations = []
    for customer_id in candidate_ids:
        customer = customers.get(customer_id)
        if customer is None:
            continue
        try:
            observation = customer_observe(customer=customer, now=now)
        except Exception:
            # One customer's bad data must not stop the scan, so its links stay as they were.
            logger.exception(
                "Active issue scan failed for a customer",
                extra={"customer_id": customer.customer_id},
            )
            result.customers_failed += 1
            continue
        evaluated.add(customer.pk)
        if observation is not None:
            observations.append(observation)
    result.customers_scanned = len(evaluated)
    return evaluated, observations


def customer_observe(*, customer: Customer, now: datetime) -> Observation | None:
    snapshot = evidence_collect(customer=customer, now=now)
    conclusion = conclusion_from_snapshot(snapshot=snapshot)
    if conclusion.kind not in CATALOG or not conclusion.ongoing:
        return None
    first_seen, last_seen = evidence_times(snapshot=snapshot, conclusion=conclusion)
    return Observation(
        customer=customer,
        snapshot=snapshot,
        conclusion=conclusion,
        first_seen=first_seen,
        last_seen=last_seen,
        occurrences=occurrences_count(snapshot=snapshot, conclusion=conclusion),
        trial_ids=blocked_trial_ids(snapshot=snapshot, conclusion=conclusion),
    )


def evidence_times(
    *, snapshot: EvidenceSnapshot, conclusion: Conclusion
) -> tuple[datetime, datetime]:
    """Return when the problem was first and last seen in the evidence."""
    component = conclusion.component
    times = [
        moment
        for operation in snapshot.operations
        if operation.agent == component
        for moment in (operation.first_problem_at, operation.last_problem_at)
        if moment is not None
    ]
    times += [
        trial.last_activity_at
        for trial in snapshot.trials
        if trial.trial_id in blocked_trial_ids(snapshot=snapshot, conclusion=conclusion)
    ]
    times += [alert.started_at for alert in snapshot.alerts if alert.agent in (component, "")]
    for described in (conclusion.first_symptom, conclusion.cause):
        if described and described.get("observed_at"):
            times.append(datetime.fromisoformat(described["observed_at"]))
    if not times:
        return snapshot.now, snapshot.now
    return min(times), max(times)


def occurrences_count(*, snapshot: EvidenceSnapshot, conclusion: Conclusion) -> int:
    """Count failed calls of the component, blocked trials and firing alerts behind the issue."""
    component = conclusion.component
    calls = sum(
        operation.failures + operation.timeouts
        for operation in snapshot.operations
        if operation.agent == component
    )
    alerts = sum(1 for alert in snapshot.alerts if alert.agent in (component, ""))
    trials = len(blocked_trial_ids(snapshot=snapshot, conclusion=conclusion))
    return max(calls + alerts + trials, 1)


def blocked_trial_ids(*, snapshot: EvidenceSnapshot, conclusion: Conclusion) -> list[str]:
    ids = {trial.trial_id for trial in snapshot.trials if trial.status in BLOCKED_TRIAL_STATUSES}
    if conclusion.workflow_id:
        ids.add(conclusion.workflow_id)
    return sorted(ids)


def observations_group(observations: list[Observation]) -> dict[str, list[Observation]]:
    groups: dict[str, list[Observation]] = defaultdict(list)
    for observation in observations:
        groups[observation.conclusion.fingerprint].append(observation)
    return groups


# Opening and merging


def issue_merge(
    *, fingerprint: str, observations: list[Observation], now: datetime, result: ScanResult
) -> ActiveIssue:
    """Merge the observations into the open issue with the fingerprint, opening one if needed."""
    try:
        with transaction.atomic():
            return issue_merge_locked(
                fingerprint=fingerprint, observations=observations, now=now, result=result
            )
    except IntegrityError:
        # Another process opened the issue between this read and this insert, so merge into it.
        logger.info("Active issue opened concurrently", extra={"fingerprint": fingerprint})
        with transaction.atomic():
            return issue_merge_locked(
                fingerprint=fingerprint, observations=observations, now=now, result=result
            )


def issue_merge_locked(
    *, fingerprint: str, observations: list[Observation], now: datetime, result: ScanResult
) -> ActiveIssue:
    issue = issue_open_get(fingerprint=fingerprint, now=now, result=result)
    for observation in observations:
        link_upsert(issue=issue, observation=observation, now=now, result=result)
    issue_describe(issue=issue, conclusion=observations[0].conclusion)
    issue_totals_update(issue=issue, now=now)
    return issue


def issue_open_get(*, fingerprint: str, now: datetime, result: ScanResult) -> ActiveIssue:
    """Return the open issue with the fingerprint, locked, reopening or creating it if needed."""
    issue = (
        ActiveIssue.objects.select_for_update()
        .filter(fingerprint=fingerprint, status=ActiveIssue.Status.OPEN)
        .first()
    )
    if issue is not None:
        result.issues_updated += 1
        return issue

    issue = (
        ActiveIssue.objects.select_for_update()
        .filter(fingerprint=fingerprint, resolved_at__gte=now - REOPEN_WINDOW)
        .order_by("-resolved_at")
        .first()
    )
    if issue is not None:
        issue.status = ActiveIssue.Status.OPEN
        issue.resolved_at = None
        issue.save(update_fields=["status", "resolved_at", "updated_at"])
        logger.info("Active issue reopened", extra={"issue_id": issue.issue_id})
        result.issues_opened += 1
        return issue

    issue = ActiveIssue.objects.create(
        fingerprint=fingerprint, kind="", summary="", first_seen=now, last_seen=now
    )
    logger.info("Active issue opened", extra={"issue_id": issue.issue_id})
    result.issues_opened += 1
    return issue


def link_upsert(
    *, issue: ActiveIssue, observation: Observation, now: datetime, result: ScanResult
) -> None:
    link = ActiveIssueCustomer.objects.filter(issue=issue, customer=observation.customer).first()
    if link is None:
        link = ActiveIssueCustomer(
            issue=issue, customer=observation.customer, first_seen=observation.first_seen
        )
    link.first_seen = min(link.first_seen, observation.first_seen)
    link.last_seen = observation.last_seen
    link.occurrences = observation.occurrences
    link.trial_ids = observation.trial_ids
    link.cleared_at = None
    link.diagnosis = link_diagnosis(link=link, observation=observation, now=now, result=result)
    link.save()


def link_diagnosis(
    *, link: ActiveIssueCustomer, observation: Observation, now: datetime, result: ScanResult
) -> Diagnosis:
    """Return a diagnosis of the issue for the customer: a fresh stored one, or a new one."""
    fingerprint = observation.conclusion.fingerprint
    fresh_since = now - DIAGNOSIS_REFRESH_AGE
    current = link.diagnosis if link.pk else None
    if current and current.fingerprint == fingerprint and current.created_at >= fresh_since:
        return current

    recent = (
        Diagnosis.objects.filter(
            customer=observation.customer, fingerprint=fingerprint, created_at__gte=fresh_since
        )
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        return recent

    result.diagnoses_created += 1
    return diagnosis_store(
        customer=observation.customer,
        snapshot=observation.snapshot,
        conclusion=observation.conclusion,
    )


def issue_describe(*, issue: ActiveIssue, conclusion: Conclusion) -> None:
    issue.kind = conclusion.kind
    issue.component = conclusion.component
    issue.summary = conclusion.summary


def issue_totals_update(*, issue: ActiveIssue, now: datetime) -> None:
    """Recompute and save the issue's totals, scope and severity from its affected customers."""
    links = list(
        ActiveIssueCustomer.objects.filter(issue=issue, cleared_at__isnull=True)
        .select_related("diagnosis")
        .order_by("-last_seen", "-id")
    )
    trial_ids = {trial_id for link in links for trial_id in link.trial_ids}
    diagnoses = [link.diagnosis for link in links if link.diagnosis is not None]

    issue.customer_id = links[0].customer_id if len(links) == 1 else None
    issue.customers_affected = len(links)
    issue.trials_affected = len(trial_ids)
    issue.occurrences = sum(link.occurrences for link in links)
    issue.first_seen = min((link.first_seen for link in links), default=issue.first_seen)
    issue.last_seen = max((link.last_seen for link in links), default=issue.last_seen)
    issue.confidence = max(
        (diagnosis.confidence for diagnosis in diagnoses), default=issue.confidence
    )
    issue.latest_diagnosis = max(
        diagnoses, key=lambda diagnosis: diagnosis.created_at, default=None
    )
    issue.severity = issue_severity(
        trials=len(trial_ids),
        customers=len(links),
        confidence=issue.confidence,
        recent=issue.last_seen >= now - SEVERITY_RECENT_WINDOW,
        platform_signal=agent_unhealthy(name=issue.component),
    )
    issue.save()


def issue_severity(
    *, trials: int, customers: int, confidence: float, recent: bool, platform_signal: bool
) -> str:
    """Rate an issue by recency and breadth.

    Critical: seen within the last hour, and the agent is unhealthy platform-wide or at least
    HELPDESK_CRITICAL_CUSTOMER_COUNT customers are affected. Major: seen within the last hour
    with a blocked trial, several customers or a high-confidence diagnosis. Otherwise minor.
    """
    if recent and (platform_signal or customers >= critical_customer_count()):
        return ActiveIssue.Severity.CRITICAL
    if recent and (trials or customers > 1 or confidence >= HIGH_CONFIDENCE):
        return ActiveIssue.Severity.MAJOR
    return ActiveIssue.Severity.MINOR


def agent_unhealthy(*, name: str) -> bool:
    """Return whether the agent reports DOWN, RESTARTING or DEGRADED platform-wide."""
    return bool(name) and Agent.objects.filter(name=name, status__in=UNHEALTHY_STATUSES).exists()


# Clearing and resolving


def issues_clear(
    *,
    evaluated: set[int],
    observations: list[Observation],
    now: datetime,
    result: ScanResult,
) -> None:
    """Clear customers whose evidence no longer shows their issue; resolve emptied issues."""
    seen = {(obs.conclusion.fingerprint, obs.customer.pk) for obs in observations}
    stale = [
        link
        for link in ActiveIssueCustomer.objects.filter(
            issue__status=ActiveIssue.Status.OPEN,
            issue__source=ActiveIssue.Source.CUSTOMERS,
            cleared_at__isnull=True,
            customer_id__in=evaluated,
        ).select_related("issue")
        if (link.issue.fingerprint, link.customer_id) not in seen
    ]
    touched = {link.issue_id for link in stale}
    if stale:
        ActiveIssueCustomer.objects.filter(pk__in=[link.pk for link in stale]).update(
            cleared_at=now
        )
        result.customers_cleared += len(stale)

    for issue_id in touched:
        issue_settle(issue_id=issue_id, now=now, result=result)


def issue_settle(*, issue_id: int, now: datetime, result: ScanResult) -> None:
    with transaction.atomic():
        issue = ActiveIssue.objects.select_for_update().get(pk=issue_id)
        remaining = ActiveIssueCustomer.objects.filter(issue=issue, cleared_at__isnull=True)
        if remaining.exists():
            issue_totals_update(issue=issue, now=now)
            return
        issue.status = ActiveIssue.Status.RESOLVED
        issue.resolved_at = now
        issue.customers_affected = 0
        issue.save(update_fields=["status", "resolved_at", "customers_affected", "updated_at"])
    logger.info("Active issue resolved", extra={"issue_id": issue.issue_id})
    result.issues_resolved += 1


# Platform signals


def platform_issues_update(*, now: datetime, covered_agents: set[str], result: ScanResult) -> None:
    """Open or update a platform-wide issue per platform signal, and resolve those gone.

    Agents in `covered_agents` have an issue from customers' evidence this run, which already
    covers the problem, so their platform signals open nothing.
    """
    observations = platform_observations_find(now=now, skip_agents=covered_agents)
    for observation in observations:
        with transaction.atomic():
            platform_issue_merge(observation=observation, now=now, result=result)

    seen = {observation.fingerprint for observation in observations}
    gone = ActiveIssue.objects.filter(
        status=ActiveIssue.Status.OPEN, source=ActiveIssue.Source.PLATFORM
    ).exclude(fingerprint__in=seen)
    for issue_id in gone.values_list("pk", flat=True):
        platform_issue_resolve(issue_id=issue_id, now=now, result=result)


def platform_issue_merge(
    *, observation: PlatformObservation, now: datetime, result: ScanResult
) -> ActiveIssue:
    """Write the observation onto its open issue, with the customers its agent serves."""
    issue = issue_open_get(fingerprint=observation.fingerprint, now=now, result=result)
    platform_links_sync(issue=issue, observation=observation, now=now)

    if not issue.kind:
        issue.first_seen = observation.first_seen
    issue.source = ActiveIssue.Source.PLATFORM
    issue.kind = observation.kind
    issue.component = observation.agent
    issue.summary = observation.summary
    issue.confidence = observation.confidence
    issue.customer = None
    issue.first_seen = min(issue.first_seen, observation.first_seen)
    issue.last_seen = max(issue.last_seen, observation.last_seen)
    issue.occurrences = len(observation.evidence)
    issue.customers_affected = observation.customers_served
    issue.trials_affected = 0
    recent = issue.last_seen >= now - SEVERITY_RECENT_WINDOW
    issue.severity = (
        ActiveIssue.Severity.CRITICAL
        if recent and observation.critical
        else ActiveIssue.Severity.MAJOR
    )
    issue.save()
    return issue


def platform_links_sync(*, issue: ActiveIssue, observation: PlatformObservation, now) -> None:
    """Link the customers the agent serves and clear those it no longer serves."""
    existing = {link.customer_id: link for link in ActiveIssueCustomer.objects.filter(issue=issue)}
    for customer_id in observation.customer_ids:
        link = existing.get(customer_id) or ActiveIssueCustomer(
            issue=issue, customer_id=customer_id, first_seen=observation.first_seen
        )
        link.first_seen = min(link.first_seen, observation.first_seen)
        link.last_seen = observation.last_seen
        link.occurrences = len(observation.evidence)
        link.cleared_at = None
        link.save()

    served = set(observation.customer_ids)
    ActiveIssueCustomer.objects.filter(issue=issue, cleared_at__isnull=True).exclude(
        customer_id__in=served
    ).update(cleared_at=now)


def platform_issue_resolve(*, issue_id: int, now: datetime, result: ScanResult) -> None:
    with transaction.atomic():
        issue = ActiveIssue.objects.select_for_update().get(pk=issue_id)
        ActiveIssueCustomer.objects.filter(issue=issue, cleared_at__isnull=True).update(
            cleared_at=now
        )
        issue.status = ActiveIssue.Status.RESOLVED
        issue.resolved_at = now
        issue.customers_affected = 0
        issue.save(update_fields=["status", "resolved_at", "customers_affected", "updated_at"])
    logger.info("Platform issue resolved", extra={"issue_id": issue.issue_id})
    result.issues_resolved += 1
