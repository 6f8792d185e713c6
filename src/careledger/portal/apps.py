from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "careledger.portal"
    label = "portal"
    default_auto_field = "django.db.models.BigAutoField"
