from django.urls import path

from diagnostics import views

urlpatterns = [
    path("issues/", views.active_issues_page, name="active-issues-page"),
    path("issues/system/", views.system_diagnosis_page, name="system-diagnosis-page"),
    path(
        "customers/<str:customer_id>/diagnosis/",
        views.diagnosis_panel,
        name="diagnosis-panel",
    ),
    path(
        "customers/<str:customer_id>/diagnosis/run/",
        views.diagnosis_run,
        name="diagnosis-run",
    ),
    path(
        "customers/<str:customer_id>/diagnosis/<str:diagnosis_id>/resolve/",
        views.diagnosis_resolve_view,
        name="diagnosis-resolve",
    ),
]
