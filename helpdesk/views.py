from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers

from diagnostics.presenters import active_issues_widget
from diagnostics.scan import active_issues_scan_in_background


@never_cache
@vary_on_headers("HX-Request")
def dashboard(request):
    """Show the search box and the active issues. The htmx poll re-renders the issues alone.

    Where no beat process runs (the demo), a request also starts the proactive scan on a
    background thread at most once per scan interval. The response never waits for the scan.
    """
    active_issues_scan_in_background()

    template = "helpdesk/dashboard.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#active_issues"
    return render(request, template, dashboard_context())


def dashboard_context() -> dict:
    """Build the active issues widget: scan issues, then stuck or failed trials they miss."""
    return active_issues_widget()
