"""The health score's trend: stored hourly snapshots of the last 7 days plus the current score.

The overview draws the trend as an SVG sparkline and the score itself as an SVG gauge. Both are
drawn with SVG attributes and CSS classes only, because the Content Security Policy forbids
inline styles.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from customers.health import DEGRADED_MIN_SCORE, HEALTHY_MIN_SCORE, HealthScore
from customers.models import Customer, HealthSnapshot

logger = logging.getLogger(__name__)

TREND_WINDOW = timedelta(days=7)
# A new snapshot is stored only when the newest one is at least this old.
SNAPSHOT_INTERVAL = timedelta(hours=1)
# One snapshot per hour for 7 days is 168 rows. The limit only guards against rows written by
# hand, such as fixtures with several snapshots in one hour.
TREND_MAX_SNAPSHOTS = 24 * 7 + 24

# Sparkline drawing area in SVG user units. The CSS scales the SVG to the card's width and keeps
# this aspect ratio, so that the dot marking the current score stays round.
SPARKLINE_WIDTH = 300
SPARKLINE_HEIGHT = 50
SPARKLINE_PADDING = 5


@dataclass(frozen=True)
class TrendPoint:
    taken_at: datetime
    score: int
    status: str


@dataclass(frozen=True)
class HealthTrend:
    """Scores of the trend window, oldest first. The last point is the current score."""

    points: list[TrendPoint]
    window_start: datetime
    now: datetime
    # Time of the newest stored snapshot, None when the customer has none yet.
    last_snapshot_at: datetime | None

    @property
    def snapshot_due(self) -> bool:
        if self.last_snapshot_at is None:
            return True
        return self.now - self.last_snapshot_at >= SNAPSHOT_INTERVAL

    @property
    def first_score(self) -> int:
        return self.points[0].score

    @property
    def current_score(self) -> int:
        return self.points[-1].score

    @property
    def change(self) -> int:
        return self.current_score - self.first_score

    @property
    def min_score(self) -> int:
        return min(point.score for point in self.points)

    @property
    def max_score(self) -> int:
        return max(point.score for point in self.points)

    @property
    def sparkline_points(self) -> str:
        """Points of an SVG polyline, in the order of the trend."""
        return " ".join(f"{x:g},{y:g}" for x, y in self.sparkline_coordinates)

    @property
    def sparkline_coordinates(self) -> list[tuple[float, float]]:
        return [
            (self.x_of(point.taken_at), sparkline_y(score=point.score)) for point in self.points
        ]

    @property
    def sparkline_last(self) -> tuple[float, float]:
        return self.sparkline_coordinates[-1]

    @property
    def threshold_healthy_y(self) -> float:
        return sparkline_y(score=HEALTHY_MIN_SCORE)

    @property
    def threshold_degraded_y(self) -> float:
        return sparkline_y(score=DEGRADED_MIN_SCORE)

    def x_of(self, moment: datetime) -> float:
        """Place a moment on the x axis: the window's start at the left edge, now at the right."""
        span = (self.now - self.window_start).total_seconds()
        offset = (moment - self.window_start).total_seconds()
        share = min(1.0, max(0.0, offset / span)) if span > 0 else 1.0
        usable = SPARKLINE_WIDTH - 2 * SPARKLINE_PADDING
        return round(SPARKLINE_PADDING + share * usable, 1)


def sparkline_y(*, score: int) -> float:
    """Vertical position of a score: 100 at the top, 0 at the bottom."""
    usable = SPARKLINE_HEIGHT - 2 * SPARKLINE_PADDING
    return round(SPARKLINE_PADDING + (100 - score) / 100 * usable, 1)


def health_trend_get(*, customer: Customer, health: HealthScore, now: datetime) -> HealthTrend:
    """Load the customer's snapshots of the trend window in one query and add the current score."""
    window_start = now - TREND_WINDOW
    snapshots = list(
        HealthSnapshot.objects.filter(customer=customer, hour__gte=hour_of(window_start))
        .order_by("-hour")
        .values_list("taken_at", "score", "status")[:TREND_MAX_SNAPSHOTS]
    )
    snapshots.reverse()

    points = [
        TrendPoint(taken_at=taken_at, score=score, status=status)
        for taken_at, score, status in snapshots
        if taken_at >= window_start
    ]
    last_snapshot_at = snapshots[-1][0] if snapshots else None
    points.append(TrendPoint(taken_at=now, score=health.score, status=health.status))
    return HealthTrend(
        points=points, window_start=window_start, now=now, last_snapshot_at=last_snapshot_at
    )


def hour_of(moment: datetime) -> datetime:
    """Truncate a moment to its hour in UTC, so that zones with half-hour offsets agree."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# --- Gauge ----------------------------------------------------------------------------------

# A half circle from the left end to the right end. pathLength="100" on the path makes its
# length 100 user units, so a stroke-dasharray of "score 100" draws the score's share of the arc.
GAUGE_ARC_PATH = "M 10 50 A 40 40 0 0 1 90 50"
