import itertools
import math

import pytest

from evaluation.isotonic import calibration_table, isotonic_fit
from evaluation.measures import (
    Prediction,
    accuracy_at,
    expected_calibration_error,
    percentile,
    suite_measure,
)


def test_accuracy_at_one_and_three():
    labels = ["a", "b", "c", "d"]
    ranked = [["a", "x"], ["x", "b"], ["x", "y", "c"], ["x", "y", "z", "d"]]

    assert accuracy_at(labels=labels, ranked=ranked, k=1) == 0.25
    assert accuracy_at(labels=labels, ranked=ranked, k=3) == 0.75
    assert accuracy_at(labels=labels, ranked=ranked, k=4) == 1.0


def test_accuracy_of_empty_answers():
    assert accuracy_at(labels=["a"], ranked=[[]], k=3) == 0.0
    assert accuracy_at(labels=[], ranked=[], k=1) == 0.0


def test_ece_exact_on_two_bins():
    # Bin 0.9-1.0: confidence 0.9 and 0.95, one right: |0.5 - 0.925| = 0.425, weight 2/4.
    # Bin 0.2-0.3: confidence 0.2 twice, none right: |0 - 0.2| = 0.2, weight 2/4.
    error = expected_calibration_error(
        confidences=[0.9, 0.95, 0.2, 0.2], correct=[True, False, False, False]
    )

    assert error == pytest.approx(0.5 * 0.425 + 0.5 * 0.2)


def test_ece_zero_when_calibrated():
    error = expected_calibration_error(
        confidences=[0.75, 0.75, 0.75, 0.75], correct=[True, True, True, False]
    )

    assert error == pytest.approx(0.0)


def test_ece_puts_one_in_last_bin():
    assert expected_calibration_error(confidences=[1.0], correct=[True]) == 0.0
    assert expected_calibration_error(confidences=[1.0], correct=[False]) == 1.0


def test_percentile_nearest_rank():
    values = list(range(1, 101))

    assert percentile(values=values, share=0.95) == 95
    assert percentile(values=values, share=0.5) == 50
    assert percentile(values=[7.0], share=0.95) == 7.0
    assert math.isnan(percentile(values=[], share=0.95))


def test_suite_measure_counts_components():
    predictions = [
        Prediction(
            "db_pool_exhaustion", "WowMemory", ("db_pool_exhaustion",), ("WowMemory",), 0.9, 0.9
        ),
        Prediction(
            "agent_crash",
            "WowAPI",
            ("dependency_timeout", "agent_crash"),
            ("WowCache", "WowAPI"),
            0.6,
            0.6,
        ),
        Prediction("config_error", "DocParser", ("unknown",), (), 0.1, 0.1, nothing_found=True),
    ]

    measured = suite_measure(predictions=predictions)

    assert measured["cases"] == 3
    assert measured["kind_at_1"] == pytest.approx(1 / 3)
    assert measured["kind_at_3"] == pytest.approx(2 / 3)
    assert measured["component_at_1"] == pytest.approx(1 / 3)
    assert measured["component_at_3"] == pytest.approx(2 / 3)
    assert measured["nothing_found"] == pytest.approx(1 / 3)


def test_isotonic_fit_pools_violators():
    fit = isotonic_fit(scores=[0.1, 0.2, 0.3, 0.4, 0.5, 0.5], outcomes=[0, 1, 0, 1, 1, 0])

    assert fit.thresholds == (0.1, 0.25, 0.4667)
    assert fit.values == (0.0, 0.5, 0.6667)


def test_isotonic_fit_is_monotone():
    scores = [0.05 * index for index in range(20)]
    outcomes = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1]

    fit = isotonic_fit(scores=scores, outcomes=outcomes)
    predicted = [fit.predict(score / 100) for score in range(101)]

    assert all(low <= high for low, high in itertools.pairwise(predicted))
    assert all(0.0 <= value <= 1.0 for value in predicted)


def test_isotonic_predict_interpolates_and_clips():
    fit = isotonic_fit(scores=[0.2, 0.2, 0.8, 0.8], outcomes=[0, 0, 1, 1])

    assert fit.predict(0.0) == 0.0
    assert fit.predict(0.5) == pytest.approx(0.5)
    assert fit.predict(1.0) == 1.0


def test_calibration_table_points():
    fit = isotonic_fit(scores=[0.2, 0.8], outcomes=[0, 1])

    table = calibration_table(fit=fit, cases=2, source="test")

    assert table["default"] == [[0.2, 0.0], [0.8, 1.0]]
    assert table["kinds"] == {}
    assert table["cases"] == 2


def test_calibration_json_read_by_detective(tmp_path, settings):
    from diagnostics.calibration import calibrate
    from evaluation.suite import calibration_json

    fit = isotonic_fit(scores=[0.1, 0.5, 0.5, 0.9], outcomes=[0, 0, 1, 1])
    path = tmp_path / "calibration.json"
    path.write_text(calibration_json(table=calibration_table(fit=fit, cases=4, source="test")))
    settings.HELPDESK_CALIBRATION_PATH = str(path)

    assert calibrate(0.5, kind="agent_crash") == 0.5
    assert calibrate(0.7, kind="agent_crash") == 0.75
    assert calibrate(0.05, kind="agent_crash") == 0.0
    assert calibrate(0.95, kind="agent_crash") == 1.0


def test_fit_clip_caps_values():
    from evaluation.isotonic import fit_clip

    fit = fit_clip(fit=isotonic_fit(scores=[0.2, 0.9], outcomes=[0, 1]), high=0.97)

    assert fit.values == (0.0, 0.97)
    assert fit.predict(0.95) == 0.97
