"""Forms of the account pages. Passwords are set only through Django's SetPasswordForm and
PasswordChangeForm, which run AUTH_PASSWORD_VALIDATORS (length ≥ 10, common, similar to the
user's attributes, all digits) with the user at hand."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
                "class": "form-control form-control-lg text-center font-monospace",
            }
        ),
    )


class TotpForm(CodeForm):
    """Enrolment and step-up: only the authenticator's six digits."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["code"].widget.attrs.update(
            {"inputmode": "numeric", "pattern": "[0-9 ]*", "maxlength": "7"}
        )


def _styled(form: forms.Form) -> forms.Form:
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", "form-control")
    return form


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _styled(self)


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _styled(self)
