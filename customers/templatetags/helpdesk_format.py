"""Template helpers for operator pages: relative times and status labels."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 60 * SECONDS_PER_MINUTE
SECONDS_PER_DAY = 24 * SECONDS_PER_HOUR


@register.filter
def time_ago(value: datetime | None, now: datetime | None = None) -> str:
    """Format a past time as "just now", "10 min ago", "3 h ago" or "2 days ago"."""
    if value is None:
        return "never"

    seconds = int(((now or timezone.now()) - value).total_seconds())
    if seconds < SECONDS_PER_MINUTE:
        return "just now"
    if seconds < SECONDS_PER_HOUR:
        return f"{seconds // SECONDS_PER_MINUTE} min ago"
    if seconds < SECONDS_PER_DAY:
        return f"{seconds // SECONDS_PER_HOUR} h ago"
    days = seconds // SECONDS_PER_DAY
    return f"{days} day ago" if days == 1 else f"{days} days ago"


@register.simple_tag
def relative_time(value: datetime | None) -> str:
    """Render a <time> element showing time_ago, with the exact local time as its title."""
    if value is None:
        return mark_safe('<span class="muted">never</span>')

    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_format(local, "Y-m-d H:i:s T"),
        time_ago(value),
    )


@register.filter
def status_class(value: str) -> str:
    """CSS class of a trial, agent or interaction status, such as "status-stuck"."""
    return f"status-{str(value).lower()}"


# Icons only decorate: every status is also written out, so the page reads the same without them.
STATUS_ICONS = {
    "success": "✓",
    "completed": "✓",
    "running": "●",
    "failed": "✗",
    "down": "✗",
    "timeout": "◷",
    "stuck": "⚠",
    "degraded": "▲",
    "restarting": "↻",
    "healthy": "●",
    "critical": "✗",
}


@register.filter
def status_icon(value: str) -> str:
    return STATUS_ICONS.get(str(value).lower(), "•")
