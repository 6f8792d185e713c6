from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "careledger.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from careledger.accounts.sessions import stamp_on_login

        user_logged_in.connect(stamp_on_login, dispatch_uid="careledger.accounts.stamp_session")
