"""Client-scoped pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.assessment import views

app_name = "assessment"
urlpatterns = [
    path("<uuid:client_id>/risk/", views.client_risk, name="risk"),
]
