from django.urls import path

from telemetry import views

urlpatterns = [
    path("v1/traces", views.traces_receive, name="otlp-traces"),
    path("v1/logs", views.logs_receive, name="otlp-logs"),
]
