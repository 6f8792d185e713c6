from django.apps import AppConfig


class AdviceConfig(AppConfig):
    name = "careledger.advice"
    label = "advice"
    default_auto_field = "django.db.models.BigAutoField"
