from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "careledger.membership"
    default_auto_field = "django.db.models.BigAutoField"
