"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.reports import views

app_name = "reports"
urlpatterns = [
    path("<uuid:client_id>/report/", views.client_report, name="report"),
]
