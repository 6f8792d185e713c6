from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "careledger.booking"
    label = "booking"
    verbose_name = "Check-up packages and booking"
    default_auto_field = "django.db.models.BigAutoField"
