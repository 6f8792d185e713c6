"""Institution-level pages (mounted under /config/): questionnaire definitions, no client data."""

from django.urls import path

from careledger.questionnaires import config_views

app_name = "questionnaires_config"
urlpatterns = [
    path("questionnaires/", config_views.definitions, name="list"),
    path("questionnaires/import/", config_views.import_definition, name="import"),
    path("questionnaires/<uuid:questionnaire_id>/", config_views.detail, name="detail"),
    path("questionnaires/<uuid:questionnaire_id>/preview/", config_views.preview, name="preview"),
    path("questionnaires/<uuid:questionnaire_id>/export/", config_views.export, name="export"),
]
