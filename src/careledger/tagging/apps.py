from django.apps import AppConfig


class TaggingConfig(AppConfig):
    name = "careledger.tagging"
    label = "tagging"
    default_auto_field = "django.db.models.BigAutoField"
