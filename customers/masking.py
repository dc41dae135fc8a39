"""Masking of secrets in request and response bodies before operators see or export them.

Agents send bodies as they received them, so headers, API keys and passwords can appear at any
depth. Keys are compared case-insensitively and without "-" and "_", so that "X-Api-Key",
"x_api_key", "apiKey" and "X_API_KEY" are all masked. A key is secret when it ends with one of
SECRET_KEY_SUFFIXES, which also covers names such as "Proxy-Authorization", "db_password" and
"x-amz-security-token", but not "token_count" or "password_hint".
"""

import json
import re
from typing import Any

MASK = "***"

# Compared against keys lower-cased with "-" and "_" removed.
SECRET_KEY_SUFFIXES = (
    "authorization",
    "cookie",
    "token",
    "apikey",
    "password",
    "passwd",
    "secret",
    "privatekey",
    "credential",
    "credentials",
    "session",
    "sessionid",
)

# "key": "value", key=value and key: value pairs inside text, such as a truncated body, a header
# dump or a JSON document encoded in a string. A value is a quoted string, an authorization scheme
# with its credentials ("Bearer abc"), or one word.
SECRET_PAIR_PATTERN = re.compile(
    r"""(?P<key>["']?(?P<name>[A-Za-z][A-Za-z0-9_-]*)["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|(?:Bearer|Basic|Digest|Token)\s+[^\s,&;}"']+|[^\s,&;}"']+)""",
    re.IGNORECASE,
)
# Bearer credentials in any text, such as a header line under a key that is not itself secret
# ("auth_header": "Bearer abc") or a logged curl command. Token characters follow RFC 6750.
BEARER_PATTERN = re.compile(r"\b(?P<scheme>Bearer)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
# Header lists such as [{"name": "Authorization", "value": "Bearer abc"}] name the secret in one
# entry and carry it in another.
HEADER_NAME_KEYS = ("name", "key", "header")
HEADER_VALUE_KEY = "value"


def key_is_secret(key: str) -> bool:
    compact = key.strip().lower().replace("-", "").replace("_", "")
    return compact.endswith(SECRET_KEY_SUFFIXES)


def mask_secrets(value: Any) -> Any:
    """Return a copy of a parsed JSON value with the value of every secret key replaced by MASK.

    Lists and objects are walked to any depth, and strings go through mask_text. The input is not
    changed.
    """
    if isinstance(value, dict):
        return mask_object(value)
    if isinstance(value, list):
        return mask_list(value)
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_list(value: list) -> list:
    # A header pair such as ["Authorization", "Bearer abc"].
    if len(value) == 2 and isinstance(value[0], str) and key_is_secret(value[0]):
        return [value[0], MASK]
    return [mask_secrets(item) for item in value]


def mask_object(value: dict) -> dict:
    names_secret = any(
        isinstance(value.get(name_key), str) and key_is_secret(value[name_key])
        for name_key in HEADER_NAME_KEYS
    )
    masked = {}
    for key, item in value.items():
        key_secret = isinstance(key, str) and key_is_secret(key)
        if key_secret or (names_secret and key == HEADER_VALUE_KEY):
            masked[key] = MASK
        else:
            masked[key] = mask_secrets(item)
    return masked


def mask_text(text: str) -> str:
    """Mask the values of secret key-value pairs and bearer credentials found in free text."""

    def replace(match: re.Match) -> str:
        if not key_is_secret(match.group("name")):
            return match.group(0)
        value = match.group("value")
        quote = value[0] if value[0] in "\"'" else ""
        return f"{match.group('key')}{quote}{MASK}{quote}"

    masked = SECRET_PAIR_PATTERN.sub(replace, text)
    return BEARER_PATTERN.sub(lambda match: f"{match.group('scheme')} {MASK}", masked)


def body_parse_masked(text: str) -> tuple[Any, bool]:
    """Parse a stored body and mask its secrets.

    Returns the masked JSON value and True when the text is JSON, else the masked text and False.
    An empty body returns (None, True) because the platform sends no body as an empty string.
    """
    if not text or not text.strip():
        return None, True
    try:
        parsed = json.loads(text)
    except ValueError:
        return mask_text(text), False
    return mask_secrets(parsed), True
