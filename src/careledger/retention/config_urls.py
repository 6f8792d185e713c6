"""Institution-level retention pages (mounted under /config/): ids and counts, no client data."""

from django.urls import path

from careledger.retention import views

app_name = "retention_config"
urlpatterns = [
    path("retention/", views.config_home, name="home"),
    path("retention/erasures/", views.config_home, name="erasures"),
    path("retention/holds/", views.place_hold, name="place_hold"),
    path("retention/holds/<uuid:hold_id>/release/", views.release_hold, name="release_hold"),
    path("retention/erasures/<uuid:request_id>/decide/", views.decide, name="decide"),
]
