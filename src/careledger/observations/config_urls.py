"""Institution configuration at /config/ (an INSTITUTION route class): import sources, local code
mappings and the read-only indicator catalogue. Codes and settings only, never anyone's data."""

from django.urls import path

from careledger.exams import source_views
from careledger.observations import config_views

app_name = "config"
urlpatterns = [
    path("sources/", source_views.sources, name="sources"),
    path("sources/new/", source_views.source_edit, name="source_new"),
    path("sources/<uuid:source_id>/", source_views.source_edit, name="source_edit"),
    path("codes/", config_views.codes, name="codes"),
    path("codes/map/", config_views.map_code, name="map_code"),
    path("codes/<uuid:mapping_id>/unmap/", config_views.unmap_code, name="unmap_code"),
    path("catalogue/", config_views.catalogue_browser, name="catalogue"),
    path("catalogue/pick/", config_views.catalogue_pick, name="catalogue_pick"),
]
