"""Forms of the export pages: parse what is typed and offer only what the user may choose.
The service validates again (the form is a convenience, not the control)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.accounts.models import User
from careledger.exports.models import Format, Purpose
from careledger.exports.scope import IDENTIFIER_FIELDS
from careledger.institutions.models import CareTeam, CareTeamMembership
from careledger.observations import catalogue
from careledger.tagging.models import TagDefinition

DATE = forms.DateInput(attrs={"type": "date"})


def identifier_labels() -> dict[str, Any]:
    return {
        "name": _("Name"),
        "document_number": _("ID number"),
        "phone": _("Phone"),
        "address": _("Address"),
    }


class RequestForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    project_id = forms.ChoiceField(label=_("Research project"), required=False)
    care_team_ids = forms.MultipleChoiceField(
        label=_("Care teams"), required=False, widget=forms.CheckboxSelectMultiple
    )
    tag_codes = forms.MultipleChoiceField(
        label=_("Clients with any of these tags"), required=False, widget=forms.SelectMultiple
    )
    enrolled_from = forms.DateField(label=_("Enrolled from"), required=False, widget=DATE)
    enrolled_to = forms.DateField(label=_("Enrolled until"), required=False, widget=DATE)
    observation_codes = forms.MultipleChoiceField(
        label=_("Indicators (latest result in the window)"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    results_from = forms.DateField(label=_("Results from"), required=False, widget=DATE)
    results_to = forms.DateField(label=_("Results until"), required=False, widget=DATE)
    include_tags = forms.BooleanField(label=_("Include the clients' tags"), required=False)
    identifier_fields = forms.MultipleChoiceField(
        label=_("Identifiers (only for continuity of care or a legal report)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    format = forms.ChoiceField(label=_("File format"), choices=Format.choices, initial="csv")
    k = forms.IntegerField(
        label=_("k-anonymity (smallest group of alike clients)"),
        min_value=2,
        max_value=50,
        initial=5,
        required=False,
    )
    justification = forms.CharField(
        label=_("Why is this export needed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, user: User, projects: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from careledger.access.roles import Action, permits

        may_identify = permits(user.role, Action.EXPORT_IDENTIFIED)
        if may_identify:
            team_ids = CareTeamMembership.objects.filter(user=user).values("care_team_id")
            teams = CareTeam.objects.filter(id__in=team_ids, is_active=True)
        else:
            teams = CareTeam.objects.filter(institution_id=user.institution_id, is_active=True)
        self.fields["care_team_ids"].choices = [(str(t.id), t.name) for t in teams.order_by("name")]
        self.fields["tag_codes"].choices = [
            (t.code, f"{t.name_zh} ({t.code})")
            for t in TagDefinition.objects.filter(
                institution_id=user.institution_id, is_active=True
            ).order_by("code")
        ]
        self.fields["observation_codes"].choices = [
            (i.code, f"{i.name_zh} · {i.code}") for i in catalogue.all_indicators()
        ]
        labels = identifier_labels()
        if may_identify:
            self.fields["identifier_fields"].choices = [(f, labels[f]) for f in IDENTIFIER_FIELDS]
        else:
            del self.fields["identifier_fields"]
        if permits(user.role, Action.RESEARCH_EXPORT) and projects:
            self.fields["project_id"].choices = [("", "—")] + [
                (str(p.id), f"{p.title} ({p.code}, k≥{p.k})") for p in projects
            ]
        else:
            del self.fields["project_id"]
            self.fields["purpose"].choices = [
                c for c in Purpose.choices if c[0] != Purpose.RESEARCH
            ]
        if not may_identify:
            self.fields["purpose"].choices = [
                c
                for c in self.fields["purpose"].choices
                if c[0] not in (Purpose.CONTINUITY, Purpose.REGULATORY)
            ]

    def scope_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        categories = ["demographics"]
        if d.get("observation_codes"):
            categories.append("observations")
        if d.get("include_tags"):
            categories.append("tags")
        return {
            "purpose": d["purpose"],
            "project_id": d.get("project_id") or "",
            "care_team_ids": d.get("care_team_ids") or [],
            "tag_codes": d.get("tag_codes") or [],
            "enrolled_from": d.get("enrolled_from"),
            "enrolled_to": d.get("enrolled_to"),
            "results_from": d.get("results_from"),
            "results_to": d.get("results_to"),
            "observation_codes": d.get("observation_codes") or [],
            "categories": categories,
            "identifier_fields": d.get("identifier_fields") or [],
            "format": d["format"],
            "k": d.get("k") or 5,
        }


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ProjectForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    title = forms.CharField(label=_("Title"), max_length=200)
    k = forms.IntegerField(label=_("Minimum k"), min_value=2, max_value=50, initial=5)
