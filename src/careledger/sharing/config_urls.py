"""Institution-level pages (mounted under /config/): partner institutions, no client data."""

from django.urls import path

from careledger.sharing import views

app_name = "sharing_config"
urlpatterns = [path("partners/", views.partners, name="partners")]
