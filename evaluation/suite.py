"""The scenario suite: diagnose every labelled scenario, fit calibration on half, measure the rest.

Rounds of scenarios (one of each kind) alternate between a fit half and a test half, so both
hold every kind. The detective
runs with calibration switched off to expose its raw scores; the isotonic fit on the fit half
becomes diagnostics/calibration.json, and the test half is measured with it applied.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from django.test import override_settings

from diagnostics.catalog import NONE_KIND, UNKNOWN_KIND
from diagnostics.reasoning import Conclusion
from diagnostics.scoring import MAX_SCORE
from evaluation.isotonic import IsotonicFit, calibration_table, fit_clip, isotonic_fit
from evaluation.measures import Prediction, suite_measure
from evaluation.replay import Outcome, feeds_available, scenario_diagnose
from evaluation.scenarios import KINDS, Scenario, scenarios_generate

logger = logging.getLogger(__name__)

CALIBRATION_PATH = Path(__file__).resolve().parent.parent / "diagnostics" / "calibration.json"


@dataclass
class SuiteResult:
    fit: dict
    test: dict
    test_raw: dict
    calibration: IsotonicFit
    scenarios: int
    feeds: dict[str, bool]
    misses: list[str]


def prediction_build(*, scenario: Scenario, conclusion: Conclusion) -> Prediction:
    """Compare the conclusion and its alternatives, in rank order, with the scenario's label."""
    kinds = [conclusion.kind]
    components = [conclusion.component] if conclusion.component else []
    for alternative in conclusion.alternatives:
        kinds.append(alternative["kind"])
        component = alternative.get("affected_component") or ""
        if component and component not in components:
            components.append(component)
    return Prediction(
        label_kind=scenario.kind,
        label_component=scenario.component,
        kinds=tuple(kinds),
        components=tuple(components),
        confidence=conclusion.confidence,
        raw_score=conclusion.confidence,
        nothing_found=conclusion.kind in (NONE_KIND, UNKNOWN_KIND),
    )


def suite_run(
    *, seed: int, per_kind: int, workdir: Path, write_calibration: bool = True
) -> SuiteResult:
    now = dt.datetime.now(dt.UTC)
    scenarios = scenarios_generate(seed=seed, per_kind=per_kind, now=now)
    # A missing calibration file makes the detective report raw scores.
    with override_settings(HELPDESK_CALIBRATION_PATH=str(workdir / "no-calibration.json")):
        outcomes = [scenario_diagnose(scenario=scenario) for scenario in scenarios]

    predictions = [
        prediction_build(scenario=outcome.scenario, conclusion=outcome.conclusion)
        for outcome in outcomes
    ]
    fit_half, test_half = halves_split(items=predictions)
    fit = isotonic_fit(
        scores=[p.raw_score for p in fit_half], outcomes=[float(p.correct) for p in fit_half]
    )
    # A few dozen cases can make a block all right; the detective still never claims certainty.
    fit = fit_clip(fit=fit, high=MAX_SCORE)
    if write_calibration:
        calibration_write(fit=fit, cases=len(fit_half), seed=seed)

    calibrated = [
        replace(p, confidence=calibrated_confidence(fit=fit, prediction=p)) for p in test_half
    ]
    return SuiteResult(
        fit=suite_measure(predictions=fit_half),
        test=suite_measure(predictions=calibrated),
        test_raw=suite_measure(predictions=test_half),
        calibration=fit,
        scenarios=len(scenarios),
        feeds=feeds_available(),
        misses=misses_describe(outcomes=halves_split(items=outcomes)[1], predictions=test_half),
    )


def halves_split(*, items: list) -> tuple[list, list]:
    """Split scenario-ordered items into a fit half and a test half holding every kind.

    Scenarios cycle through the kinds, so whole rounds alternate: round 0 fits, round 1 tests.
    """
    rounds = [index // len(KINDS) for index in range(len(items))]
    fit = [item for item, round_ in zip(items, rounds, strict=True) if round_ % 2 == 0]
    test = [item for item, round_ in zip(items, rounds, strict=True) if round_ % 2 == 1]
    return fit, test


def calibrated_confidence(*, fit: IsotonicFit, prediction: Prediction) -> float:
    if prediction.kinds[0] == NONE_KIND:
        return 0.0
    return round(fit.predict(prediction.raw_score), 2)


def calibration_write(*, fit: IsotonicFit, cases: int, seed: int) -> None:
    table = calibration_table(
        fit=fit,
        cases=cases,
        source=f"scenario suite fit half, seed {seed} (python -m evaluation)",
    )
    CALIBRATION_PATH.write_text(calibration_json(table=table))
    logger.info("Calibration written", extra={"path": str(CALIBRATION_PATH), "cases": cases})


def calibration_json(*, table: dict) -> str:
    """Return the table as indented JSON with one [raw, calibrated] point per line."""
    points = ",\n".join(f"    {json.dumps(point)}" for point in table["default"])
    head = {key: value for key, value in table.items() if key not in ("default", "kinds")}
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    return (
        "{\n" + "\n".join(lines) + f'\n  "default": [\n{points}\n  ],\n'
        f'  "kinds": {json.dumps(table["kinds"])}\n}}\n'
    )


def misses_describe(*, outcomes: list[Outcome], predictions: list[Prediction]) -> list[str]:
    """Describe each wrong first answer of the test half, for the report."""
    lines = []
    for outcome, prediction in zip(outcomes, predictions, strict=True):
        if prediction.correct:
            continue
        conclusion = outcome.conclusion
        lines.append(
            f"{outcome.scenario.scenario_id}: expected {prediction.label_kind} on "
            f"{prediction.label_component}, got {conclusion.kind} on "
            f"{conclusion.component or '-'} ({prediction.raw_score:.2f})"
        )
    return lines
