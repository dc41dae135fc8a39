"""Operator pages: customer search results, overview, timeline and interaction logs.

Each view renders one template. For htmx requests it renders only the named partial of that
template (`page.html#region`), so every region also works as a full page without JavaScript.
"""

import logging

from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers

from customers import selectors, services, trend
from customers.forms import FILTER_FIELDS, TimelineFilterForm
from customers.search import customer_search as customers_find
from customers.timeline_export import timeline_export_chunks, timeline_export_filename

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
    services.health_snapshot_record(
        customer=overview.customer, health=overview.health, trend=overview.health_trend
    )

    region = request.GET.get("region", "")
    template = "customers/overview.html"
    if partial_requested(request) and region in OVERVIEW_REGIONS:
        template = f"{template}#{region}"
    context = {
        "overview": overview,
        "customer": overview.customer,
        "gauge_arc_path": trend.GAUGE_ARC_PATH,
        "sparkline_width": trend.SPARKLINE_WIDTH,
        "sparkline_height": trend.SPARKLINE_HEIGHT,
    }
    return render(request, template, context)


@never_cache
@vary_on_headers("HX-Request")
def customer_timeline(request, customer_id: str):
    customer = selectors.customer_get(customer_id=customer_id)
    form = TimelineFilterForm.from_query(
        request.GET, agent_names=selectors.timeline_agent_names(customer=customer)
    )

    page = None
    error = None
    if not form.is_valid():
        error = "Some filters are invalid; correct them and apply again."
    else:
        try:
            page = selectors.timeline_page_get(
                customer=customer,
                **form.selection(),
                cursor=form.cleaned_data["cursor"],
                limit=TIMELINE_PAGE_SIZE,
            )
        except ValueError as invalid:
            error = str(invalid)

    template = "customers/timeline.html"
    filter_change = partial_requested(request) and not request.GET.get("cursor")
    if partial_requested(request):
        # "Load older" carries a cursor and appends entries. A filter change replaces the list.
        template += "#results" if filter_change else "#page"
    context = {
        "customer": customer,
        "form": form,
        "operations": selectors.timeline_operation_names(customer=customer),
        "page": page,
        "error": error,
        "older_query": older_query(request=request, page=page),
        "filter_query": filter_query(request=request),
    }
    response = render(request, template, context)

    # The server names the URL to push, so the address bar shows exactly the filters of the list
    # it just rendered, without the empty ones.
    if filter_change:
        query = filter_query(request=request)
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
    return response


@never_cache
def timeline_export(request, customer_id: str):
    """Stream the filtered timeline as a JSON attachment, with the timeline page's filters."""
    customer = selectors.customer_get(customer_id=customer_id)
    form = TimelineFilterForm.from_query(
        request.GET, agent_names=selectors.timeline_agent_names(customer=customer)
    )
    if not form.is_valid():
        errors = {
            field: [str(message) for message in messages] for field, messages in form.errors.items()
        }
        return JsonResponse(
            {
                "message": "Invalid timeline filters; correct them and export again.",
                "errors": errors,
            },
            status=400,
        )

    now = timezone.now()
    selection = form.selection(now=now)
    chunks = timeline_export_chunks(
        customer=customer, selection=selection, filters=selection, now=now
    )
    response = StreamingHttpResponse(chunks, content_type="application/json")
    filename = timeline_export_filename(customer=customer, now=now)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    logger.info(
        "Timeline export started",
        extra={"customer_id": customer.customer_id, "user_id": request.user.pk},
    )
    return response


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


def filter_query(*, request) -> str:
    """Query string of the current filters without the cursor and empty values.

    Used for links such as the export and for the URL pushed after a filter change.
    """
    params = request.GET.copy()
    for name in list(params):
        if name not in FILTER_FIELDS or not params[name]:
            del params[name]
    return params.urlencode()


def older_query(*, request, page) -> str:
    """Query string of the next older timeline page: the current filters with its cursor."""
    if page is None or page.next_cursor is None:
        return ""
    params = request.GET.copy()
    params["cursor"] = page.next_cursor
    return params.urlencode()
