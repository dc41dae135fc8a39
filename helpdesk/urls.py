from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path

from helpdesk.api import api
from helpdesk.api_errors import api_not_found_response, api_view_errors_as_json
from helpdesk.health import healthz

# The Swagger UI page is for browsers, so an anonymous visitor is redirected to the login page.
# Its OpenAPI document returns 401 JSON like every other API URL.
API_DOCS_URL_NAME = "openapi-view"


def api_views_prepare(patterns):
    """Make API views return errors as JSON, and exempt them from the login redirect because
    the API returns 401 itself."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            api_views_prepare(pattern.url_patterns)
            continue

        pattern.callback = api_view_errors_as_json(pattern.callback)
        if pattern.name != API_DOCS_URL_NAME:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


@login_not_required
def api_path_not_found(request, path: str):
    return api_not_found_response(request)


api_patterns, api_app_name, api_namespace = api.urls
api_views_prepare(api_patterns)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/platform/helpdesk/", (api_patterns, api_app_name, api_namespace)),
    path("", include("telemetry.urls")),
    path("", include("actions.urls")),
    path("", include("diagnostics.urls")),
    path("", include("customers.urls")),
]

# Placed last, so it only handles API paths that nothing above matched, with JSON, not HTML.
urlpatterns.append(re_path(r"^api/platform/helpdesk/(?P<path>.*)$", api_path_not_found))
