"""Institution-level pages (mounted under /config/): configuration, no client data."""

from django.urls import path

from careledger.tagging import config_views

app_name = "tagging_config"
urlpatterns = [
    path("tag-rules/", config_views.rule_list, name="list"),
    path("tag-rules/new/", config_views.tag_new, name="new"),
    path("tag-rules/validate/", config_views.validate, name="validate"),
    path("tag-rules/<uuid:tag_id>/", config_views.tag_page, name="tag"),
    path("tag-rules/<uuid:tag_id>/preview/", config_views.preview, name="preview"),
    path("tag-rules/versions/<uuid:rule_id>/publish/", config_views.publish, name="publish"),
    path("tag-rules/versions/<uuid:rule_id>/retire/", config_views.retire, name="retire"),
]
