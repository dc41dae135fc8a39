from datetime import UTC, datetime, timedelta

import pytest

from customers.templatetags.helpdesk_format import relative_time, status_class, time_ago

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 min ago"),
        (timedelta(minutes=10, seconds=59), "10 min ago"),
        (timedelta(hours=3, minutes=5), "3 h ago"),
        (timedelta(days=1, hours=2), "1 day ago"),
        (timedelta(days=9), "9 days ago"),
        (timedelta(minutes=-5), "just now"),
    ],
)
def test_time_ago_buckets(age, text):
    assert time_ago(NOW - age, NOW) == text


def test_time_ago_missing_time():
    assert time_ago(None) == "never"


def test_relative_time_element():
    html = relative_time(datetime(2020, 1, 1, 12, 0, tzinfo=UTC))

    assert html.startswith('<time datetime="2020-01-01T12:00:00+00:00" title="2020-01-01 12:00:00 ')
    assert html.endswith("days ago</time>")


def test_status_class_lowercases():
    assert status_class("STUCK") == "status-stuck"
