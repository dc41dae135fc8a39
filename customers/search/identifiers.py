"""Exact and prefix lookups on customer id, trial id, email and phone.

Each lookup is one indexed query that returns at most `CANDIDATE_LIMIT` rows, ordered by the
looked-up value so that an exact match, the shortest value with the prefix, comes first.
"""

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate, Lower

from customers.models import Customer, Trial
from customers.search.outcome import SearchHit
from customers.services import email_normalize, phone_normalize

CANDIDATE_LIMIT = 50
# A prefix match scores between these two, higher when the query covers more of the value, so
# that it ranks below every exact match.
PREFIX_MIN_SCORE = 50.0
PREFIX_MAX_SCORE = 90.0
# An email that equals the query only after dropping the "+tag" still identifies the mailbox,
# but ranks just below the address typed exactly.
PLUS_TAG_EMAIL_SCORE = 99.0


def ordered_key(expression):
    """Compare in the "C" collation on PostgreSQL, so that one btree index serves both the
    LIKE 'abc%' filter and the ORDER BY (see migration 0003_search_words)."""
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


def prefix_score(*, query: str, value: str) -> float:
    coverage = len(query) / max(len(value), 1)
    return round(PREFIX_MIN_SCORE + (PREFIX_MAX_SCORE - PREFIX_MIN_SCORE) * coverage, 1)


def id_hit(*, customer: Customer, field: str, value: str, query: str) -> SearchHit:
    if value.lower() == query:
        return SearchHit(customer, field, value, 100.0, exact=True)
    return SearchHit(customer, field, value, prefix_score(query=query, value=value), exact=False)


def customer_id_hits(*, query: str) -> list[SearchHit]:
    """Find customers whose id equals or starts with the query, ignoring case."""
    key = query.lower()
    customers = (
        Customer.objects.alias(key=ordered_key(Lower("customer_id")))
        .filter(key__startswith=key)
        .order_by("key")[:CANDIDATE_LIMIT]
    )
    return [
        id_hit(customer=customer, field="customer_id", value=customer.customer_id, query=key)
        for customer in customers
    ]


def trial_id_hits(*, query: str) -> list[SearchHit]:
    """Find the customers of trials whose id equals or starts with the query, ignoring case."""
    key = query.lower()
    trials = (
        Trial.objects.alias(key=ordered_key(Lower("trial_id")))
        .filter(key__startswith=key)
        .select_related("customer")
        .order_by("key")[:CANDIDATE_LIMIT]
    )
    return [
        id_hit(customer=trial.customer, field="trial_id", value=trial.trial_id, query=key)
        for trial in trials
    ]


def email_hits(*, query: str) -> list[SearchHit]:
    """Find customers whose normalized email equals or starts with the normalized query."""
    normalized = email_normalize(email=query)
    customers = (
        Customer.objects.alias(key=ordered_key(F("email_normalized")))
        .filter(key__startswith=normalized)
        .order_by("key")[:CANDIDATE_LIMIT]
    )

    hits = []
    for customer in customers:
        if customer.email.strip().lower() == query.lower():
            hits.append(SearchHit(customer, "email", customer.email, 100.0, exact=True))
        elif customer.email_normalized == normalized:
            hits.append(SearchHit(customer, "email", customer.email, PLUS_TAG_EMAIL_SCORE, True))
        else:
            score = prefix_score(query=normalized, value=customer.email_normalized)
            hits.append(SearchHit(customer, "email", customer.email, score, exact=False))
    return hits


def phone_variants(*, query: str) -> list[str]:
    """List the stored forms that a phone query may take: E.164, "+digits" and bare digits.

    Stored numbers that phonenumbers finds invalid are kept as digits alone, so the query's
    digits must match them too; "+1 (234) 567-890" then finds "+1234567890".
    """
    digits = "".join(character for character in query if character.isdigit())
    variants = {phone_normalize(phone=query), digits, f"+{digits}"}
    return sorted(variant for variant in variants if variant)


def phone_hits(*, query: str) -> list[SearchHit]:
    """Find customers whose normalized phone equals one of the query's forms."""
    customers = Customer.objects.filter(phone_normalized__in=phone_variants(query=query)).order_by(
        "pk"
    )[:CANDIDATE_LIMIT]
    return [
        SearchHit(customer, "phone", customer.phone_normalized, 100.0, exact=True)
        for customer in customers
    ]
