import json

import pytest

from diagnostics.calibration import calibrate
from diagnostics.evidence import evidence_collect
from diagnostics.reasoning import diagnose_snapshot
from tests.diagnostics.factories import story_build


@pytest.fixture
def calibration_file(tmp_path, settings):
    path = tmp_path / "calibration.json"
    settings.HELPDESK_CALIBRATION_PATH = str(path)
    return path


def test_missing_file_is_identity(calibration_file):
    assert calibrate(0.9, kind="db_pool_exhaustion") == 0.9
    assert calibrate(0.123, kind="queue_backlog") == 0.123


def test_kind_table_interpolates(calibration_file):
    calibration_file.write_text(
        json.dumps({"kinds": {"db_pool_exhaustion": [[0.0, 0.0], [0.8, 0.6], [1.0, 1.0]]}})
    )

    assert calibrate(0.4, kind="db_pool_exhaustion") == 0.3
    assert calibrate(0.9, kind="db_pool_exhaustion") == 0.8
    assert calibrate(0.9, kind="queue_backlog") == 0.9


def test_default_table_and_clamping(calibration_file):
    calibration_file.write_text(json.dumps({"default": [[0.2, 0.1], [0.6, 0.5]]}))

    assert calibrate(0.9, kind="agent_crash") == 0.5


def test_scores_below_the_table_fall_toward_zero(calibration_file):
    calibration_file.write_text(json.dumps({"default": [[0.7081, 0.8846], [0.8783, 0.97]]}))

    assert calibrate(0.0, kind="agent_crash") == 0.0
    assert calibrate(0.15, kind="agent_crash") == 0.19
    assert calibrate(0.7081, kind="agent_crash") == 0.88


def test_table_forced_monotone(calibration_file):
    calibration_file.write_text(json.dumps({"default": [[0.0, 0.4], [0.5, 0.2], [1.0, 0.9]]}))

    assert calibrate(0.5, kind="agent_crash") == 0.4
    assert calibrate(0.25, kind="agent_crash") == 0.4


def test_unreadable_file_is_identity(calibration_file):
    calibration_file.write_text("{not json")

    assert calibrate(0.7, kind="agent_crash") == 0.7


@pytest.mark.django_db
def test_story_confidence_calibrated(calibration_file):
    calibration_file.write_text(json.dumps({"kinds": {"db_pool_exhaustion": [[0, 0], [1, 0.5]]}}))

    result = diagnose_snapshot(evidence_collect(customer=story_build()))

    assert result["kind"] == "db_pool_exhaustion"
    assert result["root_cause"]["confidence"] == 0.45
    assert result["root_cause"]["confidence_band"] == "low"
