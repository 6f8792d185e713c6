"""The enrolment / edit form: parses what was typed; the service validates the meaning.

Field-level format checks run in the service (`validate_client`) so the form, the API and
imports share one set of rules; the form only turns its data into a `ClientInput` and shows
the service's errors beside the right fields.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import DocumentType, MembershipLevel, Relation, Sex
from careledger.clients.validation import ClientInput
from careledger.institutions.models import CareTeam


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=10_000)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(
        label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    document_type = forms.ChoiceField(label=_("Document type"), choices=DocumentType.choices)
    document_number = forms.CharField(label=_("Document number"), max_length=64)
    phone = forms.CharField(label=_("Mobile phone"), max_length=32)
    address = forms.CharField(label=_("Address"), max_length=10_000, required=False)
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact"), max_length=10_000, required=False
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact phone"), max_length=32, required=False
    )
    emergency_contact_relation = forms.ChoiceField(
        label=_("Relation"), choices=[("", "—"), *Relation.choices], required=False
    )
    membership_level = forms.ChoiceField(
        label=_("Membership level"), choices=MembershipLevel.choices
    )
    care_team_ids = forms.ModelMultipleChoiceField(
        label=_("Care teams"),
        queryset=CareTeam.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=500, required=False)

    def __init__(self, *args, teams=None, editing: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["care_team_ids"].queryset = (
            teams if teams is not None else CareTeam.objects.none()
        )
        if not editing:
            del self.fields["reason"]

    def to_input(self) -> ClientInput:
        d = self.cleaned_data
        return ClientInput(
            name=d["name"],
            sex=d["sex"],
            birth_date=d["birth_date"],
            document_type=d["document_type"],
            document_number=d["document_number"],
            phone=d["phone"],
            address=d.get("address", ""),
            emergency_contact_name=d.get("emergency_contact_name", ""),
            emergency_contact_phone=d.get("emergency_contact_phone", ""),
            emergency_contact_relation=d.get("emergency_contact_relation", ""),
            membership_level=d["membership_level"],
            care_team_ids=[t.id for t in d["care_team_ids"]],
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)
