"""Checks that every ingest path applies to times, ids and free text before storing them.

Ids (customer, trial, agent) with control characters are rejected, because they name rows that
operators search for and link to. Free text keeps its content but loses NUL characters, which
PostgreSQL does not store in text or jsonb columns.
"""

import datetime as dt
import re
from typing import Any

# How far ahead of the server clock a time may be, to allow for clock skew between hosts.
MAX_CLOCK_SKEW = dt.timedelta(days=1)
# C0 controls, DEL and C1 controls (Unicode category Cc).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NUL = "\x00"


class InvalidItem(ValueError):
    """An item that cannot be stored, with a message that names the field, the value and the fix."""


def time_check(*, name: str, moment: dt.datetime, now: dt.datetime) -> dt.datetime:
    """Return a time in UTC, rejecting one that UTC cannot hold or that lies in the future."""
    utc = time_to_utc(name=name, moment=moment)
    return future_check(name=name, moment=utc, as_sent=moment.isoformat(), now=now)


def time_to_utc(*, name: str, moment: dt.datetime) -> dt.datetime:
    """Convert an aware time to UTC, rejecting one outside the years UTC can hold.

    A time such as 9999-12-31T23:59:59-14:00 is valid ISO-8601 but falls after year 9999 in UTC,
    where Python's datetime and the database raise OverflowError.
    """
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidItem(
            f"{name} {moment.isoformat()} is out of range in UTC: "
            "send a time between years 1 and 9999 in UTC."
        ) from None


def datetime_from_nanos(nanos: int) -> dt.datetime:
    """Return the UTC time of nanoseconds since the Unix epoch, to the microsecond."""
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=nanos // 1000)


def time_from_nanos(*, name: str, nanos: int, now: dt.datetime) -> dt.datetime:
    """Convert OTLP nanoseconds since the Unix epoch, rejecting a time in the future."""
    moment = datetime_from_nanos(nanos)
    return future_check(name=name, moment=moment, as_sent=f"{nanos} ({_utc_text(moment)})", now=now)


def future_check(*, name: str, moment: dt.datetime, as_sent: str, now: dt.datetime) -> dt.datetime:
    """Reject a time more than MAX_CLOCK_SKEW ahead of now, naming it as `as_sent`.

    Lists sort newest first, so a time far in the future would stay at the top of them.
    """
    if moment > now + MAX_CLOCK_SKEW:
        raise InvalidItem(
            f"{name} {as_sent} is more than {MAX_CLOCK_SKEW.days} day ahead of the server clock "
            f"({_utc_text(now)}): send the time the item happened, and check the sender's clock."
        )
    return moment


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identifier_check(*, name: str, value: str) -> str:
    """Return an id unchanged, rejecting one that contains control characters."""
    if CONTROL_CHARACTERS.search(value):
        quoted = repr(value) if len(value) <= 80 else f"{value[:77]!r}..."
        raise InvalidItem(
            f"{name} {quoted} contains control characters: send an id of printable characters."
        )
    return value


def nul_strip(text: str) -> str:
    return text.replace(NUL, "") if NUL in text else text


def json_nul_strip(value: Any) -> Any:
    """Return a JSON value with NUL removed from every string, dictionary keys included.

    Callers pass values whose nesting the request parsers already bounded.
    """
    if isinstance(value, str):
        return nul_strip(value)
    if isinstance(value, dict):
        return {nul_strip(key): json_nul_strip(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_nul_strip(item) for item in value]
    return value
