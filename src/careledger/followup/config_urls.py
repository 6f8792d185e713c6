"""Institution-level pages (mounted under /config/): follow-up plans, no client data."""

from django.urls import path

from careledger.followup import config_views

app_name = "followup_config"
urlpatterns = [
    path("followup-plans/", config_views.plan_list, name="plans"),
    path("followup-plans/<uuid:version_id>/", config_views.version_page, name="version"),
]
