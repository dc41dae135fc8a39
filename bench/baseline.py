"""The search django-helpdesk does, for comparison: an OR of icontains filters through the ORM.

django-helpdesk's ticket list searches with Q(field__icontains=query) over several fields joined
by OR. Here the same is done over customer id, email, phone, name, company and trial id, on the
same database, next to an in-process call of the product's customer_search.
"""

import statistics
import time
from collections.abc import Callable

from django.db import connection
from django.db.models import Q

from bench.cases import Case
from customers.models import Customer
from customers.search import customer_search

RESULT_LIMIT = 20
STATEMENT_TIMEOUT = "120s"


def helpdesk_style_search(*, query: str) -> list[Customer]:
    matches = (
        Q(customer_id__icontains=query)
        | Q(email__icontains=query)
        | Q(phone__icontains=query)
        | Q(name__icontains=query)
        | Q(company__icontains=query)
        | Q(trials__trial_id__icontains=query)
    )
    return list(Customer.objects.filter(matches).distinct()[:RESULT_LIMIT])


def product_search(*, query: str) -> list:
    return customer_search(query=query, limit=RESULT_LIMIT).hits


def seconds_taken(function: Callable[..., object], *, query: str, repeats: int) -> float:
    """Return the median wall time of `repeats` calls, after one unrecorded warm-up call."""
    function(query=query)
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(query=query)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def baseline_compare(*, cases: list[Case], repeats: int) -> list[dict]:
    """Time each search case both ways; one case per kind, as the icontains scans are slow."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")

    first_per_kind = {}
    for case in cases:
        first_per_kind.setdefault(case.kind, case)

    rows = []
    for kind, case in first_per_kind.items():
        query = str(case.params["q"])
        helpdesk_seconds = seconds_taken(helpdesk_style_search, query=query, repeats=repeats)
        product_seconds = seconds_taken(product_search, query=query, repeats=repeats)
        rows.append(
            {
                "kind": kind,
                "query": query,
                "helpdesk_style_ms": round(helpdesk_seconds * 1000, 1),
                "product_ms": round(product_seconds * 1000, 1),
                "ratio": round(helpdesk_seconds / max(product_seconds, 1e-6), 1),
            }
        )
    return rows
