"""Institution-level pages (mounted under /config/): configuration, no client data."""

from django.urls import path

from careledger.booking import config_views

app_name = "booking_config"
urlpatterns = [
    path("packages/", config_views.package_list, name="packages"),
    path("packages/sites/", config_views.sites, name="sites"),
    path("packages/capacity/", config_views.capacity, name="capacity"),
    path("packages/<uuid:version_id>/", config_views.version_detail, name="version"),
]
