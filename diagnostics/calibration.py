"""Map the detective's raw scores to calibrated confidences through fitted monotone tables.

The evaluation harness fits the tables on labelled scenarios and writes them to
diagnostics/calibration.json (setting HELPDESK_CALIBRATION_PATH overrides the path):

    {"kinds": {"db_pool_exhaustion": [[0.0, 0.0], [0.9, 0.93], [1.0, 0.99]], ...},
     "default": [[0.0, 0.0], [1.0, 1.0]]}

Each table is a list of [raw, calibrated] points. A raw score between two points is interpolated
linearly; one outside the table takes the nearest end's value. A kind without its own table uses
"default", and without either the raw score passes through unchanged, as it does when the file is
absent or unreadable.
"""

import bisect
import json
import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent / "calibration.json"

Table = tuple[tuple[float, ...], tuple[float, ...]]


def calibrate(raw_score: float, *, kind: str) -> float:
    """Return the calibrated confidence of `raw_score` for the fault kind, rounded to 2 places."""
    tables = tables_load(path=calibration_path(), modified=file_modified(calibration_path()))
    table = tables.get(kind) or tables.get("default")
    if table is None:
        return raw_score
    return round(table_apply(table=table, raw_score=raw_score), 2)


def calibration_path() -> Path:
    return Path(getattr(settings, "HELPDESK_CALIBRATION_PATH", "") or DEFAULT_PATH)


def file_modified(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


@lru_cache(maxsize=4)
def tables_load(*, path: Path, modified: float | None) -> dict[str, Table]:
    """Read and check the tables; `modified` is part of the cache key so an edit is reread."""
    if modified is None:
        return {}
    try:
        document = json.loads(path.read_text())
        raw_tables = {**document.get("kinds", {}), "default": document.get("default")}
        tables = {
            kind: table_build(points=points)
            for kind, points in raw_tables.items()
            if points is not None
        }
    except (OSError, ValueError, TypeError, AttributeError) as error:
        logger.warning(
            "Calibration file unreadable, using raw scores",
            extra={"path": str(path), "error": str(error)},
        )
        return {}
    logger.info("Calibration loaded", extra={"path": str(path), "kinds": sorted(tables)})
    return tables


def table_build(*, points: list) -> Table:
    """Sort the points by raw score and force the calibrated values to never decrease."""
    if not points:
        raise ValueError("a calibration table needs at least one [raw, calibrated] point")
    pairs = sorted((float(raw), float(calibrated)) for raw, calibrated in points)
    raws: list[float] = []
    values: list[float] = []
    for raw, calibrated in pairs:
        raws.append(raw)
        values.append(max(calibrated, values[-1]) if values else calibrated)
    return tuple(raws), tuple(values)


def table_apply(*, table: Table, raw_score: float) -> float:
    raws, values = table
    if raw_score <= raws[0]:
        # The table has no points below its fitted range. Holding its first value there would
        # give a hypothesis with almost no evidence the confidence of the weakest fitted
        # diagnosis, so the value falls in proportion to the score instead.
        if raws[0] <= 0:
            return values[0]
        return values[0] * max(raw_score, 0.0) / raws[0]
    if raw_score >= raws[-1]:
        return values[-1]
    upper = bisect.bisect_right(raws, raw_score)
    low_raw, high_raw = raws[upper - 1], raws[upper]
    low_value, high_value = values[upper - 1], values[upper]
    if high_raw == low_raw:
        return high_value
    share = (raw_score - low_raw) / (high_raw - low_raw)
    return low_value + share * (high_value - low_value)
