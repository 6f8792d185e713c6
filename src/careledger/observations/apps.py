from django.apps import AppConfig


class ObservationsConfig(AppConfig):
    name = "careledger.observations"
    label = "observations"
    default_auto_field = "django.db.models.BigAutoField"
