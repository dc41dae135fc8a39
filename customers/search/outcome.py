"""Result types of customer search."""

from dataclasses import dataclass

from customers.models import Customer


@dataclass(frozen=True)
class SearchHit:
    """One customer found by a search, with the field and value that matched."""

    customer: Customer
    # One of "customer_id", "email", "phone", "trial_id", "name", "company".
    matched_field: str
    # The stored value that matched, such as the trial id or the normalized phone.
    matched_value: str
    # 0 to 100; an exact match on an identifier scores 100.
    score: float
    # True for an exact match on customer id, email, phone or trial id.
    exact: bool


@dataclass(frozen=True)
class SearchOutcome:
    # The query after cleaning: control characters removed, whitespace collapsed, truncated, and
    # reduced to the address when it contained "Name <address>".
    query: str
    hits: list[SearchHit]
    # A message for the operator when the query could not be searched as typed, else None.
    message: str | None
