"""Forms of the tagging pages (shape only; the services validate and authorise)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.tagging.models import Category, Colour


class TagForm(forms.Form):
    code = forms.CharField(label=_("Tag code"), max_length=40, help_text=_("e.g. hypertension"))
    name_zh = forms.CharField(label=_("Chinese name"), max_length=40)
    name_en = forms.CharField(label=_("English name"), max_length=60, required=False)
    colour = forms.ChoiceField(label=_("Colour"), choices=Colour.choices, initial=Colour.BLUE)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    expression = forms.CharField(
        label=_("Rule"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class RuleForm(forms.Form):
    expression = forms.CharField(
        label=_("Rule"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "rule-input"}),
    )
    note = forms.CharField(label=_("Change note"), max_length=200, required=False)


class ManualTagForm(forms.Form):
    tag = forms.UUIDField(label=_("Tag"))
    reason = forms.CharField(label=_("Reason"), max_length=500)
