"""Isotonic calibration: pool-adjacent-violators fit and the calibration table it produces.

The table maps a raw detective score to the share of diagnoses with that score that were right.
diagnostics/calibration.json stores it; diagnostics.calibration reads it at diagnosis time.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class IsotonicFit:
    """A non-decreasing step function, given by the mean score and value of each pooled block.

    Between two points the value is interpolated linearly; below the first point and above the
    last it is the end value (scikit-learn's IsotonicRegression with out_of_bounds="clip").
    """

    thresholds: tuple[float, ...]
    values: tuple[float, ...]

    def predict(self, score: float) -> float:
        if not self.thresholds:
            return score
        if score <= self.thresholds[0]:
            # As diagnostics.calibration applies the table: scaled toward zero below it.
            if self.thresholds[0] <= 0:
                return self.values[0]
            return self.values[0] * max(score, 0.0) / self.thresholds[0]
        if score >= self.thresholds[-1]:
            return self.values[-1]
        right = bisect.bisect_right(self.thresholds, score)
        x0, x1 = self.thresholds[right - 1], self.thresholds[right]
        y0, y1 = self.values[right - 1], self.values[right]
        if x1 == x0:
            return y1
        return y0 + (y1 - y0) * (score - x0) / (x1 - x0)


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
