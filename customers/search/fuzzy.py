"""Fuzzy matching of names and companies: the database finds candidates, rapidfuzz ranks them.

On PostgreSQL the candidates come from pg_trgm word similarity over GIN indexes on lower(name)
and lower(company). On SQLite, the zero-setup demo database, a small table is scanned whole and a
large one is filtered by token substrings. Both rank with the same rapidfuzz scorer, so a
customer scores the same on either database once it is a candidate.
"""

from dataclasses import dataclass

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Greatest, Lower
from rapidfuzz import fuzz, process, utils

from customers.models import Customer

# WRatio ranks "jon doe" against "John Doe" at 93 and "acme" against "Acme Corp" at 90, while
# "jane" against "John Doe" gets 50; 70 keeps typos and partial names and drops the rest.
SCORE_THRESHOLD = 70.0
CANDIDATE_LIMIT = 200
# Below this many rows a whole-table scan on SQLite takes tens of milliseconds.
SQLITE_FULL_SCAN_MAX_ROWS = 50_000
# pg_trgm needs three characters to form a trigram that narrows the GIN index scan, so shorter
# queries match names and companies by prefix only.
MIN_TRIGRAM_QUERY_LENGTH = 3
MAX_SQLITE_TOKENS = 4

# (customer primary key, name, company)
Candidate = tuple[int, str, str]


@dataclass(frozen=True)
class FuzzyMatch:
    pk: int
    field: str
    value: str
    score: float


def fuzzy_rank(*, query: str, candidates: list[Candidate]) -> list[FuzzyMatch]:
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


def fuzzy_candidates(*, query: str) -> list[Candidate]:
    if connection.vendor == "postgresql":
        return postgres_candidates(query=query)
    return sqlite_candidates(query=query)


def postgres_candidates(*, query: str) -> list[Candidate]:
    """Fetch the customers whose name or company is most similar to the query, by pg_trgm."""
    key = query.lower()
    customers = Customer.objects.alias(name_key=Lower("name"), company_key=Lower("company"))
    if len(key) < MIN_TRIGRAM_QUERY_LENGTH:
        # Unordered on purpose: sorting every name with a one- or two-letter prefix would cost
        # more than the search budget, and rapidfuzz ranks the candidates anyway.
        customers = customers.filter(
            Q(name_key__startswith=key) | Q(company_key__startswith=key)
        ).order_by()
    else:
        # "%" is similarity >= pg_trgm.similarity_threshold (0.3 by default) and catches typos
        # across the whole value ("jon doe" against "john doe" is 0.55). "<%" is word_similarity
        # >= pg_trgm.word_similarity_threshold (0.6) and catches a query that is part of the
        # value ("acme" in "acme corp"). The GIN trigram indexes answer both.
        similar = (
            Q(name_key__trigram_similar=key)
            | Q(company_key__trigram_similar=key)
            | Q(name_key__trigram_word_similar=key)
            | Q(company_key__trigram_word_similar=key)
        )
        customers = (
            customers.filter(similar)
            .alias(
                similarity=Greatest(
                    TrigramWordSimilarity(key, "name_key"),
                    TrigramWordSimilarity(key, "company_key"),
                )
            )
            .order_by("-similarity", F("last_activity_at").desc(nulls_last=True), "pk")
        )
    return list(customers.values_list("pk", "name", "company")[:CANDIDATE_LIMIT])


def sqlite_candidates(*, query: str) -> list[Candidate]:
    """Scan a small table whole; filter a large one by the query's tokens as substrings."""
    rows = list(
        Customer.objects.values_list("pk", "name", "company")[: SQLITE_FULL_SCAN_MAX_ROWS + 1]
    )
    if len(rows) <= SQLITE_FULL_SCAN_MAX_ROWS:
        return rows

    # NOTE: SQLite's LIKE ignores case for ASCII letters only, so on a large SQLite table a
    # Cyrillic query must match the case of the stored name.
    tokens = sorted(set(utils.default_process(query).split()), key=len, reverse=True)
    condition = Q()
    for token in tokens[:MAX_SQLITE_TOKENS]:
        condition |= Q(name__contains=token) | Q(company__contains=token)
    if not condition:
        return []
    return list(
        Customer.objects.filter(condition).values_list("pk", "name", "company")[:CANDIDATE_LIMIT]
    )
