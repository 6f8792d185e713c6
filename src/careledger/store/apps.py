from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "careledger.store"
    default_auto_field = "django.db.models.BigAutoField"
