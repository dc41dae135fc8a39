"""Operator pages: customer search results, overview, timeline and interaction logs.

Each view renders one template. For htmx requests it renders only the named partial of that
template (`page.html#region`), so every region also works as a full page without JavaScript.
"""

import logging

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers

from customers import selectors
from customers.forms import TimelineFilterForm
from customers.search import customer_search as customers_find

logger = logging.getLogger(__name__)

OVERVIEW_REGIONS = ("trials", "health", "agents")
TIMELINE_PAGE_SIZE = 25


@never_cache
@vary_on_headers("HX-Request")
def customer_search(request):
    query = request.GET.get("q", "")
    outcome = customers_find(query=query) if query.strip() else None

    single_exact = outcome is not None and len(outcome.hits) == 1 and outcome.hits[0].exact
    if single_exact and not partial_requested(request):
        return redirect("customer-overview", customer_id=outcome.hits[0].customer.customer_id)

    template = "customers/search.html"
    if partial_requested(request):
        template += "#results"
    return render(request, template, {"outcome": outcome, "search_query": query})


@never_cache
@vary_on_headers("HX-Request")
def customer_overview(request, customer_id: str):
    overview = selectors.customer_overview_get(customer_id=customer_id)

    region = request.GET.get("region", "")
    template = "customers/overview.html"
    if partial_requested(request) and region in OVERVIEW_REGIONS:
        template = f"{template}#{region}"
    return render(request, template, {"overview": overview, "customer": overview.customer})


@never_cache
@vary_on_headers("HX-Request")
def customer_timeline(request, customer_id: str):
    customer = selectors.customer_get(customer_id=customer_id)
    agent_names = selectors.timeline_agent_names(customer=customer)
    form = TimelineFilterForm(request.GET or None, agent_names=agent_names)

    page = None
    error = None
    if form.is_bound and not form.is_valid():
        error = "Some filters are invalid; correct them and apply again."
    else:
        filters = form.cleaned_data if form.is_bound else {}
        try:
            page = selectors.timeline_page_get(
                customer=customer,
                agent=filters.get("agent", ""),
                status=filters.get("status", ""),
                since=form.since() if form.is_bound else None,
                cursor=filters.get("cursor", ""),
                limit=TIMELINE_PAGE_SIZE,
            )
        except ValueError as invalid:
            error = str(invalid)

    template = "customers/timeline.html"
    if partial_requested(request):
        # "Load older" carries a cursor and appends entries. A filter change replaces the list.
        template += "#page" if request.GET.get("cursor") else "#results"
    context = {
        "customer": customer,
        "form": form,
        "page": page,
        "error": error,
        "older_query": older_query(request=request, page=page),
    }
    return render(request, template, context)


@never_cache
@vary_on_headers("HX-Request")
def interaction_logs(request, customer_id: str, interaction_pk: int):
    customer = selectors.customer_get(customer_id=customer_id)
    interaction, lines = selectors.interaction_logs_get(
        customer=customer, interaction_pk=interaction_pk
    )

    template = "customers/interaction_logs.html"
    if partial_requested(request):
        template += "#logs"
    context = {"customer": customer, "interaction": interaction, "lines": lines}
    return render(request, template, context)


def partial_requested(request) -> bool:
    """True for htmx requests that swap a region; a history restore needs the full page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def older_query(*, request, page) -> str:
    """Query string of the next older timeline page: the current filters with its cursor."""
    if page is None or page.next_cursor is None:
        return ""
    params = request.GET.copy()
    params["cursor"] = page.next_cursor
    return params.urlencode()
