import pytest


@pytest.fixture(autouse=True)
def raw_confidences(settings, tmp_path):
    """Score with raw confidences: a fitted calibration table would move the exact values."""
    settings.HELPDESK_CALIBRATION_PATH = str(tmp_path / "no-calibration.json")
