"""Institution-level pages (mounted under /config/): configuration, no client data."""

from django.urls import path  # noqa: F401

app_name = "advice_config"
urlpatterns: list = []
