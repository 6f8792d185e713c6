"""Institution-level pages (mounted under /config/): configuration, no client data."""

from django.urls import path

from careledger.advice import config_views

app_name = "advice_config"
urlpatterns = [
    path("advice/", config_views.catalogue, name="catalogue"),
    path("advice/new/", config_views.new_item, name="new"),
    path("advice/item/", config_views.item, name="item"),
    path("advice/load-builtin/", config_views.load_builtin, name="load_builtin"),
]
