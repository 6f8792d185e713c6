from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class StaffLoginForm(AuthenticationForm):
    """One message for every failure (unknown user, wrong password, inactive account):
    the answer must not tell which usernames exist."""

    error_messages = {
        "invalid_login": _("Username or password is incorrect."),
        "inactive": _("Username or password is incorrect."),
    }

    def confirm_login_allowed(self, user):  # type: ignore[no-untyped-def]
        if not user.is_active:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
