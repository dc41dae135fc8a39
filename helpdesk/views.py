from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers

from customers.selectors import active_issues_list


@never_cache
@vary_on_headers("HX-Request")
def dashboard(request):
    """Show the search box and the active issues. The htmx poll re-renders the issues alone."""
    template = "helpdesk/dashboard.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#active_issues"
    return render(request, template, {"issues": active_issues_list()})
