"""Customer search by id, email, phone, trial id, name or company."""

from customers.search.engine import customer_search
from customers.search.outcome import SearchHit, SearchOutcome

__all__ = ["SearchHit", "SearchOutcome", "customer_search"]
