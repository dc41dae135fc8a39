"""Isotonic calibration: pool-adjacent-violators fit and the calibration table it produces.

The table maps a raw detective score to the share of diagnoses with that score that were right.
diagnostics/calibration.json stores it; diagnostics.calibration reads it at diagnosis time.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from diagnostics.calibration import table_apply


@dataclass(frozen=True)
class IsotonicFit:
    """A non-decreasing step function, given by the mean score and value of each pooled block.

    It is read as the detective reads the calibration table it becomes: interpolated linearly
    between points, scaled toward zero below the first and held at the last value above it.
    """

    thresholds: tuple[float, ...]
    values: tuple[float, ...]

    def predict(self, score: float) -> float:
        if not self.thresholds:
            return score
        return table_apply(table=(self.thresholds, self.values), raw_score=score)


def isotonic_fit(*, scores: Sequence[float], outcomes: Sequence[float]) -> IsotonicFit:
    """Fit a non-decreasing map from scores to outcomes (0 or 1) by pool-adjacent-violators."""
    # Equal scores get one value, so they start as one block: [score sum, outcome sum, count].
    tied: dict[float, list[float]] = {}
    for score, outcome in zip(scores, outcomes, strict=True):
        block = tied.setdefault(score, [0.0, 0.0, 0])
        block[0] += score
        block[1] += outcome
        block[2] += 1

    blocks: list[list[float]] = []
    for score in sorted(tied):
        blocks.append(tied[score])
        # Pool backwards while the newest block's mean outcome does not exceed its neighbour's.
        while len(blocks) > 1 and mean_outcome(blocks[-2]) >= mean_outcome(blocks[-1]):
            last = blocks.pop()
            blocks[-1] = [blocks[-1][index] + last[index] for index in range(3)]

    return IsotonicFit(
        thresholds=tuple(round(block[0] / block[2], 4) for block in blocks),
        values=tuple(round(mean_outcome(block), 4) for block in blocks),
    )


def mean_outcome(block: list[float]) -> float:
    return block[1] / block[2]


def fit_clip(*, fit: IsotonicFit, high: float) -> IsotonicFit:
    """Cap the fitted values, so that a calibrated confidence never claims more than `high`."""
    return IsotonicFit(
        thresholds=fit.thresholds, values=tuple(min(value, high) for value in fit.values)
    )


def calibration_table(*, fit: IsotonicFit, cases: int, source: str) -> dict:
    """Build diagnostics/calibration.json: [raw score, calibrated confidence] points.

    diagnostics.calibration reads "default", and a kind's own table under "kinds" before it.
    """
    return {
        "method": "isotonic regression (pool-adjacent-violators), linear between points, "
        "scaled toward zero below the first point, held above the last",
        "source": source,
        "cases": cases,
        "default": [[x, y] for x, y in zip(fit.thresholds, fit.values, strict=True)],
        # NOTE: no per-kind table is fitted while each kind has only a few labelled cases.
        "kinds": {},
    }
