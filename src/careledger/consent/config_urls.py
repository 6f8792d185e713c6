"""Institution-level consent pages (mounted under /config/): configuration, no client data."""

from django.urls import path

from careledger.consent import config_views

app_name = "consent_config"
urlpatterns = [
    path("consents/", config_views.text_list, name="list"),
    path("consents/<uuid:text_id>/", config_views.text_page, name="text"),
    path("consents/<uuid:text_id>/publish/", config_views.publish, name="publish"),
    path("consents/<uuid:text_id>/retire/", config_views.retire, name="retire"),
]
