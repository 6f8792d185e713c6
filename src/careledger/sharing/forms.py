"""Forms for grants and partners: parse and show errors; the services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.sharing.categories import CATEGORIES, MAX_DAYS, MAX_USES, all_scopes
from careledger.sharing.selectors import CATEGORY_LABELS

ERROR_WORDS = {
    "required": _("This field is required."),
    "unknown_partner": _("Choose one of the registered partner institutions."),
    "no_consent": _(
        "The client has not consented to share with this partner (purpose 分享给合作机构). "
        "Record the consent first."
    ),
    "unknown_category": _("Unknown category."),
    "before_data_from": _("The end of the data window is before its start."),
    "out_of_range": _("Out of the allowed range."),
    "rate_limited": _("Too many requests this hour. Please try again later."),
    "wrong_code": _("The code is not right. Please check the SMS and try again."),
    "code_burnt": _("Too many wrong codes: this request is void. Please start again."),
    "code_expired": _("The code has expired. Please start again."),
    "not_pending": _("This request is no longer waiting for a code."),
    "already_revoked": _("This share was already revoked."),
    "already_registered": _("A partner with this code is already registered."),
    "letters_digits_hyphens": _("Use letters, digits and hyphens (at most 32)."),
    "unknown_scope": _("Unknown scope."),
    "too_long": _("Too long."),
}


def error_messages(errors: dict[str, list[str]]) -> list[str]:
    return [str(ERROR_WORDS.get(code, code)) for codes in errors.values() for code in codes]


class GrantForm(forms.Form):
    partner = forms.UUIDField(label=_("Partner institution"))
    categories = forms.MultipleChoiceField(
        label=_("What to share"),
        choices=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    data_from = forms.DateField(label=_("Data from"), required=False)
    data_to = forms.DateField(label=_("Data until"), required=False)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=MAX_DAYS, initial=30
    )
    max_uses = forms.IntegerField(
        label=_("Number of uses"), min_value=1, max_value=MAX_USES, initial=5
    )


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code from the SMS"), max_length=12)


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("Institution name"), max_length=200)
    code = forms.CharField(label=_("Partner code"), max_length=32)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes it may ask for"),
        choices=[(s, s) for s in all_scopes()],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
