from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class StaffLoginForm(AuthenticationForm):
    """One message for every failure (unknown user, wrong password, inactive or portal account,
    locked out): the answer must not tell which usernames exist or what state they are in."""

    error_messages = {
        "invalid_login": _("Username or password is incorrect."),
        "inactive": _("Username or password is incorrect."),
    }

    def confirm_login_allowed(self, user):  # type: ignore[no-untyped-def]
        # Portal clients sign in at the portal with a phone code, never here.
        if not user.is_active or user.role == "client":
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
