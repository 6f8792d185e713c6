from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "careledger.questionnaires"
    label = "questionnaires"
    default_auto_field = "django.db.models.BigAutoField"
