from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "careledger.crypto"
    label = "crypto"
    default_auto_field = "django.db.models.BigAutoField"
