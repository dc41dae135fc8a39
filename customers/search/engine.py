"""Customer search: dispatch a query to the lookups its shape allows, then merge and rank."""

import logging
import time

from customers.search import fuzzy, identifiers
from customers.search.outcome import SearchHit, SearchOutcome
from customers.search.query import MAX_QUERY_LENGTH, ParsedQuery, query_parse

logger = logging.getLogger(__name__)

MAX_LIMIT = 100
BLANK_QUERY_MESSAGE = "Enter a customer id, email, phone, trial id, name or company."
NO_WORD_CHARACTERS_MESSAGE = (
    "The query has no letters or digits. Enter a customer id, email, phone, trial id, name or "
    "company."
)
TRUNCATED_MESSAGE = (
    f"The query was longer than {MAX_QUERY_LENGTH} characters, so only its first "
    f"{MAX_QUERY_LENGTH} were searched."
)


def customer_search(*, query: str, limit: int = 20) -> SearchOutcome:
    """Find customers by id, email, phone, trial id, name or company, and never raise on input.

    Exact identifier matches come first, then higher scores, then the most recent activity. The
    SQL query count is fixed by the query's shape: one for an email or a phone, two for an id,
    three for a name on PostgreSQL (two on SQLite), and five for a single word on PostgreSQL
    (four on SQLite). The tests assert each of these counts.
    """
    started = time.monotonic()
    parsed = query_parse(raw=query or "")
    if not parsed.text:
        return SearchOutcome(query="", hits=[], message=BLANK_QUERY_MESSAGE)
    if not parsed.has_word_characters:
        return SearchOutcome(query=parsed.text, hits=[], message=NO_WORD_CHARACTERS_MESSAGE)

    limit = max(1, min(limit, MAX_LIMIT))
    hits = identifier_hits(parsed=parsed)
    if needs_fuzzy(parsed=parsed, hits=hits):
        hits += fuzzy.name_and_company_hits(query=parsed.text, limit=limit)

    ranked = hits_rank(hits=hits)[:limit]
    logger.info(
        "Customer search finished",
        extra={
            "hit_count": len(ranked),
            "exact": any(hit.exact for hit in ranked),
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    message = TRUNCATED_MESSAGE if parsed.truncated else None
    return SearchOutcome(query=parsed.text, hits=ranked, message=message)


def identifier_hits(*, parsed: ParsedQuery) -> list[SearchHit]:
    hits: list[SearchHit] = []
    if parsed.is_email:
        return identifiers.email_hits(query=parsed.text)

    if parsed.is_phone:
        hits += identifiers.phone_hits(query=parsed.text)
    if parsed.is_token:
        hits += identifiers.customer_id_hits(query=parsed.text)
        hits += identifiers.trial_id_hits(query=parsed.text)
    return hits


def needs_fuzzy(*, parsed: ParsedQuery, hits: list[SearchHit]) -> bool:
    """Run the fuzzy path only for text that can be a name and found no exact identifier."""
    if parsed.is_email or parsed.is_phone or parsed.has_id_prefix:
        return False
    return not any(hit.exact for hit in hits)


def hits_rank(*, hits: list[SearchHit]) -> list[SearchHit]:
    """Keep each customer's best hit; order exact first, then by score and latest activity."""
    best: dict[int, SearchHit] = {}
    for hit in hits:
        current = best.get(hit.customer.pk)
        if current is None or (hit.exact, hit.score) > (current.exact, current.score):
            best[hit.customer.pk] = hit

    def sort_key(hit: SearchHit):
        activity = hit.customer.last_activity_at
        return (
            not hit.exact,
            -hit.score,
            activity is None,
            -activity.timestamp() if activity else 0.0,
            hit.customer.customer_id,
        )

    return sorted(best.values(), key=sort_key)
