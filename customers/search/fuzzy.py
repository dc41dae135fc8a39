"""Fuzzy matching of names and companies: the database finds candidates, rapidfuzz ranks them.

On PostgreSQL the query's words are first matched fuzzily against customers_search_word, the
table of distinct name and company words. The matched words are then looked up in a GIN index on
the words of each customer's name and company (migration 0003_search_words explains why). On
SQLite, the zero-setup demo database, a small table is scanned whole and a large one is filtered
by word substrings. Both rank with the same rapidfuzz scorer, so a candidate scores the same on
either database. PostgreSQL makes fewer candidates, though, because every query word that matches
a stored word must appear in the customer's name or company.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from rapidfuzz import fuzz, process, utils

from customers.models import Customer
from customers.search.outcome import SearchHit

# WRatio ranks "jon doe" against "John Doe" at 93 and "acme" against "Acme Corp" at 90, while
# "jane" against "John Doe" gets 50; 70 keeps typos and partial names and drops the rest.
SCORE_THRESHOLD = 70.0
CANDIDATE_LIMIT = 200
# Below this many rows a whole-table scan on SQLite takes tens of milliseconds.
SQLITE_FULL_SCAN_MAX_ROWS = 50_000
MAX_QUERY_WORDS = 4
WORD = re.compile(r"[^\W_]+")

# A stored word is taken for a query word when fuzz.ratio reaches this ("jon" and "john" score
# 86, "jhon" and "john" 75) or when it starts with the query word, which is typed in part.
WORD_SCORE_THRESHOLD = 75.0
MATCHED_WORDS_PER_QUERY_WORD = 30
WORD_CANDIDATE_LIMIT = 500
# Stored words within this many characters of a query word's length are typo candidates.
WORD_LENGTH_SLACK = 2
MIN_TRIGRAM_WORD_LENGTH = 3

# The expression of the customer_words_idx GIN index, written out so that the planner uses it.
WORDS_EXPRESSION = (
    'to_tsvector(\'simple\'::regconfig, lower("customers_customer"."name"::text)'
    ' || \' \' || lower("customers_customer"."company"::text))'
)


@dataclass(frozen=True)
class FuzzyMatch:
    pk: int
    field: str
    value: str
    score: float


def name_and_company_hits(*, query: str, limit: int) -> list[SearchHit]:
    """Find customers whose name or company resembles the query.

    Two SQL queries on SQLite (candidates, then the best `limit` customers) and three on
    PostgreSQL, which first matches the query's words against the stored words.
    """
    if connection.vendor == "postgresql":
        candidates = postgres_candidates(query=query)
    else:
        candidates = sqlite_candidates(query=query)
    matches = fuzzy_rank(query=query, candidates=candidates)
    if not matches:
        return []

    # Same-score matches stay in the hits until the final ranking by latest activity, so a
    # customer named like many others is not cut here.
    matches.sort(key=lambda match: -match.score)
    cutoff = matches[min(limit, len(matches)) - 1].score
    kept = [match for match in matches if match.score >= cutoff]
    customers = Customer.objects.in_bulk([match.pk for match in kept])
    return [
        SearchHit(customers[match.pk], match.field, match.value, match.score, exact=False)
        for match in kept
        if match.pk in customers
    ]


def fuzzy_rank(*, query: str, candidates: list[tuple[int, str, str]]) -> list[FuzzyMatch]:
    """Score each candidate's name and company and keep the better field above the threshold."""
    best: dict[int, FuzzyMatch] = {}
    for field, position in (("name", 1), ("company", 2)):
        choices = {
            candidate[0]: candidate[position] for candidate in candidates if candidate[position]
        }
        matches = process.extract(
            query,
            choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=SCORE_THRESHOLD,
            limit=None,
        )
        for value, score, pk in matches:
            if pk not in best or score > best[pk].score:
                best[pk] = FuzzyMatch(pk=pk, field=field, value=value, score=round(score, 1))
    return list(best.values())


def query_words(*, query: str) -> list[str]:
    """Split the query into lower-case words, longest first, without repeats.

    Single letters are dropped when longer words exist: as a prefix, "b" (say from a pasted
    "<b>John</b>") matches so many stored words that requiring it would exclude the right ones.
    """
    words = list(dict.fromkeys(WORD.findall(query.lower())))
    longer = [word for word in words if len(word) > 1]
    return sorted(longer or words, key=len, reverse=True)[:MAX_QUERY_WORDS]


def postgres_candidates(*, query: str) -> list[tuple[int, str, str]]:
    """Fetch customers whose name and company words match every matchable query word.

    NOTE: the candidates are not ordered, so that the index scan stops at CANDIDATE_LIMIT rows.
    When more customers share the matched words, rapidfuzz ranks an arbitrary subset of them.
    """
    words = query_words(query=query)
    matched = matched_words(words=words, stored=stored_words_similar(words=words))
    if not matched:
        return []

    tsquery = " & ".join(
        "(" + " | ".join(tsquery_lexeme(word) for word in alternatives) + ")"
        for alternatives in matched
    )
    # The tsquery is a bound parameter; only the constant expression is formatted in.
    contains_words = RawSQL(  # noqa: S611
        f"{WORDS_EXPRESSION} @@ %s::tsquery", (tsquery,), output_field=BooleanField()
    )
    candidates = Customer.objects.filter(contains_words).order_by()
    return list(candidates.values_list("pk", "name", "company")[:CANDIDATE_LIMIT])


def stored_words_similar(*, words: list[str]) -> list[str]:
    """Fetch stored words that may be a query word mistyped or typed in part, in one query."""
    selects = []
    params: list[object] = []
    for word in words:
        conditions = ["word LIKE %s"]
        params.append(f"{word}%")
        if len(word) >= MIN_TRIGRAM_WORD_LENGTH:
            conditions.append("(word LIKE %s AND length(word) BETWEEN %s AND %s)")
            params += [f"{word[0]}%", len(word) - WORD_LENGTH_SLACK, len(word) + WORD_LENGTH_SLACK]
            conditions.append("word %% %s")
            params.append(word)
        # Words and the limit are bound parameters; only constant SQL fragments are formatted in.
        where = " OR ".join(conditions)
        selects.append(f"(SELECT word FROM customers_search_word WHERE {where} LIMIT %s)")  # noqa: S608
        params.append(WORD_CANDIDATE_LIMIT)
    if not selects:
        return []

    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(selects), params)
        return [row[0] for row in cursor.fetchall()]


def matched_words(*, words: list[str], stored: list[str]) -> list[list[str]]:
    """For each query word, pick the stored words it matches; drop query words matching none."""
    matched = []
    for word in words:
        scored = [
            (100.0 if candidate.startswith(word) else fuzz.ratio(word, candidate), candidate)
            for candidate in stored
        ]
        accepted = sorted(
            (pair for pair in scored if pair[0] >= WORD_SCORE_THRESHOLD), reverse=True
        )[:MATCHED_WORDS_PER_QUERY_WORD]
        if accepted:
            matched.append([candidate for _score, candidate in accepted])
    return matched


def tsquery_lexeme(word: str) -> str:
    """Quote a word as a tsquery lexeme, so that characters such as "-" or ":" stay literal."""
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


def sqlite_candidates(*, query: str) -> list[tuple[int, str, str]]:
    """Scan a small table whole; filter a large one by the query's words as substrings."""
    rows = list(
        Customer.objects.values_list("pk", "name", "company")[: SQLITE_FULL_SCAN_MAX_ROWS + 1]
    )
    if len(rows) <= SQLITE_FULL_SCAN_MAX_ROWS:
        return rows

    # NOTE: SQLite's LIKE ignores case for ASCII letters only, so on a large SQLite table a
    # Cyrillic query must match the case of the stored name.
    condition = Q()
    for word in query_words(query=query):
        condition |= Q(name__contains=word) | Q(company__contains=word)
    if not condition:
        return []
    return list(
        Customer.objects.filter(condition).values_list("pk", "name", "company")[:CANDIDATE_LIMIT]
    )
