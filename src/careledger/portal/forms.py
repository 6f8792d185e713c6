"""Sign-in forms: a mobile number (and, where there are several, the institution), then a code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.clients import identifiers
from careledger.institutions.models import Institution
from careledger.portal import rules


class PhoneForm(forms.Form):
    institution = forms.ChoiceField(label=_("Your health-management centre"))
    phone = forms.CharField(label=_("Mobile number"), max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(i.id), i.name) for i in Institution.objects.order_by("code")[:200]]
        field = self.fields["institution"]
        field.choices = choices
        self.single_institution = len(choices) == 1
        if self.single_institution:
            field.widget = forms.HiddenInput()
            field.initial = choices[0][0]
            if self.is_bound and not self.data.get("institution"):
                self.data = self.data.copy()
                self.data["institution"] = choices[0][0]

    def clean_phone(self) -> str:
        try:
            return identifiers.normalise_mobile(self.cleaned_data["phone"])
        except identifiers.IdentifierError:
            raise forms.ValidationError(
                _("Enter a mainland China mobile number, e.g. 138 0013 8000."), code="phone"
            ) from None


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Sign-in code"), max_length=16)

    def clean_code(self) -> str:
        code = rules.normalise_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(_("Enter the 6-digit code from the SMS."), code="format")
        return code
