from django.urls import path

from customers import views
from helpdesk.views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("customers/search/", views.customer_search, name="customer-search"),
]
