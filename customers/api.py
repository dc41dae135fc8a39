from datetime import datetime

from ninja import Router, Schema

from customers.search import customer_search
from customers.search.rows import search_rows_list

router = Router()


# --- Customer search: GET /customers/search?q= -------------------------------------------------
# Registered before any "/{customer_id}" route so that "search" is never read as a customer id.


class CustomerSearchRow(Schema):
    customer_id: str
    email: str
    name: str
    phone: str
    company: str
    active_trials: int
    completed_trials: int
    health_status: str
    last_activity_at: datetime | None
    open_tickets: int
    matched_field: str
    matched_value: str
    score: float


class CustomerSearchResponse(Schema):
    customers: list[CustomerSearchRow]
    message: str | None


@router.get("search", response=CustomerSearchResponse, url_name="customer-search-api")
def customer_search_api(request, q: str = ""):
    """Find customers by id, email, phone, trial id, name or company, best match first."""
    outcome = customer_search(query=q)
    return {"customers": search_rows_list(hits=outcome.hits), "message": outcome.message}


# --- End of customer search ---------------------------------------------------------------------
