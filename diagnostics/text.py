"""Masking of log bodies and error messages: variable parts for grouping, secrets for display."""

import re

from customers.masking import MASK, mask_text

# Variable parts replaced by "<*>" so that messages differing only in ids, numbers or quoted
# values fall into one template. Order matters: longer shapes first, bare numbers last.
VARIABLE_PATTERNS = (
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b"),
    re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b", re.IGNORECASE),
    re.compile(r"'[^']*'|\"[^\"]*\""),
    re.compile(r"\b[a-z]+-(?=[\w-]*\d)[\w-]+\b", re.IGNORECASE),
    re.compile(r"\d+(?:\.\d+)?"),
)
WILDCARD = "<*>"
TEMPLATE_MAX_LENGTH = 200

# A bare "Bearer <token>" outside a key-value pair, which mask_text leaves alone.
BEARER_PATTERN = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
# mask_text reads "Unauthorized: api_key=abc" as the key "Unauthorized" with the value
# "api_key=abc", so secret keys are looked for again wherever they stand.
SECRET_PAIR_PATTERN = re.compile(
    r"(?i)\b(authorization|x[_-]api[_-]key|api[_-]?key|access[_-]token|token|secret|password)"
    r"(\"?\s*[:=]\s*\"?)(?!\*\*\*)[^\s\"',;}]+"
)


def message_template(*, text: str) -> str:
    """Return the message with its variable parts replaced by <*>, whitespace collapsed."""
    template = " ".join(text.split())
    for pattern in VARIABLE_PATTERNS:
        template = pattern.sub(WILDCARD, template)
    return template[:TEMPLATE_MAX_LENGTH]


def secrets_mask(*, text: str) -> str:
    """Replace credentials such as bearer tokens, API keys and passwords with ***."""
    masked = mask_text(text)
    masked = BEARER_PATTERN.sub(lambda match: f"{match.group(1)} {MASK}", masked)
    return SECRET_PAIR_PATTERN.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}", masked)


def message_excerpt(*, text: str, limit: int = 160) -> str:
    """Return a one-line, secret-masked excerpt of an untrusted message for evidence lines."""
    line = " ".join(secrets_mask(text=text).split())
    if len(line) <= limit:
        return line
    return line[: limit - 1] + "…"
