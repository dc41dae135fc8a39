from django.urls import path

from telemetry import views

urlpatterns = [
    path("v1/traces", views.traces_receive, name="otlp-traces"),
    path("v1/logs", views.logs_receive, name="otlp-logs"),
    path("v1/metrics", views.metrics_receive, name="otlp-metrics"),
]
