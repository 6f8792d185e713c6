"""Forms of the auditor's workbench: parse and bound what is typed, nothing more."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.access.models import ReviewStatus
from careledger.audit.models import AlertStatus
from careledger.audit.selectors import EventFilter


class EventFilterForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150, required=False)
    client = forms.CharField(label=_("Client (card No. or id)"), max_length=40, required=False)
    action = forms.CharField(label=_("Action"), max_length=64, required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[
            ("", _("Any")),
            ("allowed", _("Allowed")),
            ("denied", _("Denied")),
            ("failed", _("Failed")),
        ],
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def to_filter(self) -> EventFilter:
        d = self.cleaned_data
        return EventFilter(
            username=d.get("username", ""),
            client=d.get("client", ""),
            action=d.get("action", ""),
            outcome=d.get("outcome", ""),
            since=d.get("since"),
            until=d.get("until"),
        )


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=[
            (ReviewStatus.JUSTIFIED, ReviewStatus.JUSTIFIED.label),
            (ReviewStatus.UNJUSTIFIED, ReviewStatus.UNJUSTIFIED.label),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AlertForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(AlertStatus.ACKNOWLEDGED, _("Acknowledge")), (AlertStatus.CLOSED, _("Close"))]
    )
    note = forms.CharField(required=False, max_length=1000)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for emergency access"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Say what the emergency is. The auditor reviews every emergency access."),
    )
    minutes = forms.TypedChoiceField(label=_("For"), coerce=int, choices=())

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from careledger.audit.services import duration_choices

        super().__init__(*args, **kwargs)
        self.fields["minutes"].choices = [
            (m, _("%(n)d minutes") % {"n": m}) for m in duration_choices()
        ]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
