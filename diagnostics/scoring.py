"""Score every fault kind of the catalog against the findings, per affected component.

A kind's score combines its supporting evidence as a noisy-OR, 1 - prod(1 - weight), so that
independent signals add up without passing 1, then subtracts the penalties that hold. Each signal
counts once however many findings repeat it; every repeat is still listed as evidence.
"""

import re
from dataclasses import dataclass, field

from diagnostics.catalog import CATALOG, ORCHESTRATOR, FaultKind, Penalty, orchestrator_agent
from diagnostics.evidence import EvidenceSnapshot
from diagnostics.findings import TEMPLATE_SIGNALS, TEXT_SIGNALS, Finding, Signal
from diagnostics.text import message_template

CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# The highest confidence the detective claims: the evidence is indirect, never proof.
MAX_SCORE = 0.97
# Below this a kind is not worth proposing, even as an alternative.
MIN_SCORE = 0.15

# Findings whose example text is matched against the kinds' error-text rules.
TEXT_BEARING_SIGNALS = (*TEXT_SIGNALS, *TEMPLATE_SIGNALS, Signal.ALERT, Signal.WORKFLOW_FAILED)


@dataclass
class Hypothesis:
    kind: FaultKind
    agent: str | None
    score: float = 0.0
    # The score mapped through the fitted calibration table; set by the reasoning step.
    confidence: float = 0.0
    # Findings that argue for the kind, each with the weight it earned, strongest first.
    supporting: list[tuple[Finding, float]] = field(default_factory=list)
    against: list[str] = field(default_factory=list)
    # Masked templates of the error texts that matched, for the impact and the fingerprint.
    templates: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.kind.code


def hypotheses_rank(*, snapshot: EvidenceSnapshot, findings: list[Finding]) -> list[Hypothesis]:
    """Return the best hypothesis of every catalog kind, highest score first."""
    candidates = candidate_agents(findings=findings)
    best: list[Hypothesis] = []
    for kind in CATALOG.values():
        scored = [
            hypothesis_score(kind=kind, agent=agent, snapshot=snapshot, findings=findings)
            for agent in candidates
        ]
        best.append(max(scored, key=lambda hypothesis: (hypothesis.score, hypothesis.agent or "")))
    return sorted(best, key=lambda hypothesis: -hypothesis.score)


def candidate_agents(*, findings: list[Finding]) -> list[str | None]:
    return [*sorted({finding.agent for finding in findings if finding.agent}), None]


def hypothesis_score(
    *, kind: FaultKind, agent: str | None, snapshot: EvidenceSnapshot, findings: list[Finding]
) -> Hypothesis:
    # Findings without an agent (a stuck workflow with no calls) are symptoms of every component.
    relevant = [finding for finding in findings if finding.agent in (agent, None)]
    hypothesis = Hypothesis(kind=kind, agent=agent or resolve_default(kind=kind))

    text_weight = text_support(kind=kind, relevant=relevant, hypothesis=hypothesis)
    metric_weight = metric_support(kind=kind, relevant=relevant, hypothesis=hypothesis)
    shift_weight = metric_shift_support(kind=kind, relevant=relevant, hypothesis=hypothesis)
    signal_weights = signal_support(kind=kind, relevant=relevant, hypothesis=hypothesis)
    has_key = bool((text_weight and kind.text_is_key) or metric_weight) or any(
        finding.signal in kind.key_signals for finding in relevant
    )
    if not has_key:
        hypothesis.supporting.clear()
        hypothesis.against.append(kind.missing)
        return hypothesis

    weights = [
        weight for weight in (text_weight, metric_weight, shift_weight, *signal_weights) if weight
    ]
    penalty = penalties_apply(
        kind=kind, agent=agent, relevant=relevant, snapshot=snapshot, hypothesis=hypothesis
    )
    hypothesis.score = round(min(max(noisy_or(weights) - penalty, 0.0), MAX_SCORE), 2)
    hypothesis.supporting.sort(key=lambda item: -item[1])
    return hypothesis


def resolve_default(*, kind: FaultKind) -> str | None:
    if kind.default_component == ORCHESTRATOR:
        return orchestrator_agent()
    return kind.default_component or None


def noisy_or(weights: list[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


def text_support(*, kind: FaultKind, relevant: list[Finding], hypothesis: Hypothesis) -> float:
    """Add findings whose error text matches the kind; return the strongest rule's weight."""
    best = 0.0
    for finding in relevant:
        if finding.signal not in TEXT_BEARING_SIGNALS:
            continue
        weight = text_weight(kind=kind, finding=finding)
        if not weight:
            continue
        hypothesis.supporting.append((finding, weight))
        hypothesis.templates.append(finding.template or message_template(text=finding.example))
        best = max(best, weight)
    return best


def text_weight(*, kind: FaultKind, finding: Finding) -> float:
    texts = (finding.example, finding.template, error_types_text(finding=finding))
    weights = [
        rule.weight
        for rule in kind.text_rules
        if any(text and rule.pattern.search(text) for text in texts)
    ]
    return max(weights, default=0.0)


def error_types_text(*, finding: Finding) -> str:
    """Return the finding's exception class names, each also split into words.

    Class names such as AuthenticationError or RateLimitError name the fault even when the
    message does not, and split as 'Authentication Error' they match the same rules as prose.
    """
    names = finding.data.get("error_types") or ()
    return " ".join(f"{name} {CAMEL_BOUNDARY.sub(' ', name)}" for name in names)


def metric_support(*, kind: FaultKind, relevant: list[Finding], hypothesis: Hypothesis) -> float:
    """Add saturated metrics of the kind; return their weight, which makes the kind's key."""
    saturated = kind_metric_findings(kind=kind, relevant=relevant, signal=Signal.METRIC_SATURATION)
    for finding in saturated:
        hypothesis.supporting.append((finding, kind.metric_weight))
    return kind.metric_weight if saturated else 0.0


def metric_shift_support(
    *, kind: FaultKind, relevant: list[Finding], hypothesis: Hypothesis
) -> float:
    """Add metrics of the kind that rose against their baseline; never the kind's key alone."""
    shifted = kind_metric_findings(kind=kind, relevant=relevant, signal=Signal.METRIC_SHIFT)
    for finding in shifted:
        hypothesis.supporting.append((finding, kind.metric_shift_weight))
    return kind.metric_shift_weight if shifted else 0.0


def kind_metric_findings(
    *, kind: FaultKind, relevant: list[Finding], signal: Signal
) -> list[Finding]:
    return [
        finding
        for finding in relevant
        if finding.signal == signal and finding.data.get("metric") in kind.metric_names
    ]


def signal_support(
    *, kind: FaultKind, relevant: list[Finding], hypothesis: Hypothesis
) -> list[float]:
    weights = []
    for signal, weight in kind.signal_weights.items():
        matched = [finding for finding in relevant if finding.signal == signal]
        for finding in matched:
            hypothesis.supporting.append((finding, weight))
        if matched:
            weights.append(weight)
    return weights


def penalties_apply(
    *,
    kind: FaultKind,
    agent: str | None,
    relevant: list[Finding],
    snapshot: EvidenceSnapshot,
    hypothesis: Hypothesis,
) -> float:
    total = 0.0
    for penalty in kind.penalties:
        if penalty_holds(
            penalty=penalty,
            agent=agent,
            relevant=relevant,
            snapshot=snapshot,
            templates=hypothesis.templates,
        ):
            hypothesis.against.append(penalty.text.format(agent=agent or "The agent"))
            total += penalty.amount
    return total


def penalty_holds(
    *,
    penalty: Penalty,
    agent: str | None,
    relevant: list[Finding],
    snapshot: EvidenceSnapshot,
    templates: list[str],
) -> bool:
    signals = {finding.signal for finding in relevant}
    if penalty.signal is not None:
        return penalty.signal in signals
    if penalty.pattern is not None:
        return any(
            penalty.pattern.search(finding.example)
            for finding in relevant
            if finding.signal in TEXT_BEARING_SIGNALS
        )
    if penalty.absent_signals:
        return not signals.intersection(penalty.absent_signals)
    if penalty.peers_share_error:
        return bool(peers_with_error(snapshot=snapshot, agent=agent, templates=templates))
    return False


def peers_with_error(
    *, snapshot: EvidenceSnapshot, agent: str | None, templates: list[str]
) -> list:
    """Return other customers' failed calls on the agent with one of the given error templates."""
    if agent is None or not templates:
        return []
    wanted = set(templates)
    return [
        peer
        for peer in snapshot.peer_failures
        if peer.agent == agent and message_template(text=peer.error_message) in wanted
    ]
