"""Client-scoped consent pages (mounted under /clients/): every view asks the access policy."""

from django.urls import path

from careledger.consent import views

app_name = "consent"
urlpatterns = [
    path("<uuid:client_id>/consents/", views.client_consents, name="client"),
    path("<uuid:client_id>/consents/fhir/", views.client_consents_fhir, name="client_fhir"),
]
