"""Measures of a ranked diagnosis against its label: accuracy at k, calibration error, latency."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

ECE_BINS = 10


@dataclass(frozen=True)
class Prediction:
    """One diagnosis compared with its label.

    `kinds` and `components` are the ranked results, best first. `correct` is whether the
    first answer got both the kind and the component right, which is what the confidence claims.
    """

    label_kind: str
    label_component: str
    kinds: tuple[str, ...]
    components: tuple[str, ...]
    confidence: float
    raw_score: float
    nothing_found: bool = False

    @property
    def correct(self) -> bool:
        return (
            bool(self.kinds)
            and self.kinds[0] == self.label_kind
            and bool(self.components)
            and self.components[0] == self.label_component
        )


def accuracy_at(*, labels: Sequence[str], ranked: Sequence[Sequence[str]], k: int) -> float:
    """Return the share of cases whose label is among the first k ranked results."""
    if not labels:
        return 0.0
    hits = sum(1 for label, answers in zip(labels, ranked, strict=True) if label in answers[:k])
    return hits / len(labels)


def expected_calibration_error(
    *, confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS
) -> float:
    """Return the expected calibration error over equal-width confidence bins.

    ECE = sum over bins of (cases in bin / all cases) * |accuracy in bin - mean confidence in bin|.
    A confidence of exactly 1.0 falls in the last bin.
    """
    if not confidences:
        return 0.0
    totals = [[0, 0.0, 0] for _ in range(bins)]
    for confidence, hit in zip(confidences, correct, strict=True):
        index = min(int(confidence * bins), bins - 1)
        totals[index][0] += 1
        totals[index][1] += confidence
        totals[index][2] += int(hit)

    error = 0.0
    for count, confidence_sum, hits in totals:
        if count:
            error += count / len(confidences) * abs(hits / count - confidence_sum / count)
    return error


def percentile(*, values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile: the smallest value with `share` of values at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(share * len(ordered)), 1)
    return ordered[rank - 1]


def suite_measure(*, predictions: Sequence[Prediction], confidence: str = "confidence") -> dict:
    """Return accuracy at 1 and 3 for kind and component, ECE and the share of empty results."""
    kinds = [prediction.label_kind for prediction in predictions]
    components = [prediction.label_component for prediction in predictions]
    return {
        "cases": len(predictions),
        "kind_at_1": accuracy_at(labels=kinds, ranked=[p.kinds for p in predictions], k=1),
        "kind_at_3": accuracy_at(labels=kinds, ranked=[p.kinds for p in predictions], k=3),
        "component_at_1": accuracy_at(
            labels=components, ranked=[p.components for p in predictions], k=1
        ),
        "component_at_3": accuracy_at(
            labels=components, ranked=[p.components for p in predictions], k=3
        ),
        "ece": expected_calibration_error(
            confidences=[getattr(p, confidence) for p in predictions],
            correct=[p.correct for p in predictions],
        ),
        "nothing_found": (
            sum(1 for p in predictions if p.nothing_found) / len(predictions) if predictions else 0
        ),
    }
