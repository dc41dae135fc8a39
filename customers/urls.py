from django.urls import path

from customers import views
from helpdesk.views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("customers/search/", views.customer_search, name="customer-search"),
    path("customers/<str:customer_id>/", views.customer_overview, name="customer-overview"),
    path(
        "customers/<str:customer_id>/timeline/",
        views.customer_timeline,
        name="customer-timeline",
    ),
    path(
        "customers/<str:customer_id>/timeline/export.json",
        views.timeline_export,
        name="customer-timeline-export",
    ),
    path(
        "customers/<str:customer_id>/timeline/<int:interaction_pk>/logs/",
        views.interaction_logs,
        name="interaction-logs",
    ),
]
