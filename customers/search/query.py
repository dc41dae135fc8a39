"""Cleaning of a pasted search query and detection of its shape."""

import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 200
ID_PREFIXES = ("cust-", "trial-")

# PostgreSQL rejects NUL in text, so it is removed; other control characters, such as tabs and
# line breaks in a pasted block, separate words.
NUL = "\x00"
CONTROL_CHARACTERS = re.compile(r"[\x01-\x1f\x7f-\x9f]")
WHITESPACE = re.compile(r"\s+")
# An address inside a pasted "Jane Roe <jane.roe@example.com>" or inside other text.
EMBEDDED_EMAIL = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().\-/]+$")
DIGIT = re.compile(r"\d")
# Letters or digits of any script; a query without any cannot match anything.
WORD_CHARACTER = re.compile(r"[^\W_]")
MIN_PHONE_DIGITS = 6


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    truncated: bool
    is_email: bool
    is_phone: bool
    # A single token, such as "cust-123" or "TRIAL-WF-12345", that may be an id or its prefix.
    is_token: bool
    # The token starts with "cust-" or "trial-", so it cannot be a name.
    has_id_prefix: bool
    has_word_characters: bool


def query_parse(*, raw: str) -> ParsedQuery:
    """Clean an operator's query and detect which fields it could match."""
    text = CONTROL_CHARACTERS.sub(" ", raw.replace(NUL, ""))
    text = WHITESPACE.sub(" ", text).strip()
    truncated = len(text) > MAX_QUERY_LENGTH
    if truncated:
        text = text[:MAX_QUERY_LENGTH].strip()

    email = EMBEDDED_EMAIL.search(text)
    if email is not None:
        text = email.group(0).strip(".")

    is_token = bool(text) and " " not in text
    digit_count = len(DIGIT.findall(text))
    return ParsedQuery(
        text=text,
        truncated=truncated,
        is_email=email is not None,
        is_phone=digit_count >= MIN_PHONE_DIGITS and bool(PHONE_CHARACTERS.match(text)),
        is_token=is_token,
        has_id_prefix=is_token and text.lower().startswith(ID_PREFIXES),
        has_word_characters=bool(WORD_CHARACTER.search(text)),
    )
