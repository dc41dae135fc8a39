from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from helpdesk.api import api
from helpdesk.health import healthz


def exempt_from_login_redirect(patterns):
    """Exempt API views from the login redirect, because the API answers 401 itself."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            exempt_from_login_redirect(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


api_patterns, api_app_name, api_namespace = api.urls
exempt_from_login_redirect(api_patterns)

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
