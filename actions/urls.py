from django.urls import path

from actions import views

urlpatterns = [
    path(
        "customers/<str:customer_id>/actions/restart-agent/",
        views.restart_confirm,
        name="action-restart-confirm",
    ),
    path(
        "customers/<str:customer_id>/actions/retry-workflow/",
        views.retry_confirm,
        name="action-retry-confirm",
    ),
    path("customers/<str:customer_id>/actions/", views.customer_actions, name="customer-actions"),
    path("actions/<str:action_id>/", views.action_detail, name="action-detail"),
]
