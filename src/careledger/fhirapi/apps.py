from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    name = "careledger.fhirapi"
    label = "fhirapi"
    default_auto_field = "django.db.models.BigAutoField"
