"""The catalogue editor's form: it only collects what was typed; `validate_item` in the
catalogue services checks its meaning (the API shares it), and its errors land beside the
fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from careledger.advice.models import AdviceItem, Domain

APPLIES_HELP = _(
    "One alternative a line; keys that must all hold on one line joined with &. "
    "Keys: tag:<tag code>, risk:<model>:<level>, constitution:<code>. Empty: general advice."
)
CITATIONS_HELP = _("One a line: guideline | edition | section or page.")


class ItemForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=80, required=False)
    domain = forms.ChoiceField(label=_("Domain"), choices=Domain.choices, required=False)
    priority = forms.CharField(
        label=_("Priority (1–99, smaller shows first)"), max_length=3, required=False
    )
    title = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Advice (Chinese)"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Advice (English)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    citations = forms.CharField(
        label=_("Sources"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=CITATIONS_HELP,
    )
    applies = forms.CharField(
        label=_("Applies when"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        required=False,
        help_text=APPLIES_HELP,
    )
    replaces = forms.CharField(label=_("Replaces (item codes)"), max_length=400, required=False)
    needs_clinician = forms.BooleanField(label=_("Needs a clinician"), required=False)
    change_note = forms.CharField(label=_("What changed and why"), max_length=200, required=False)

    def __init__(self, *args: Any, adding: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.adding = adding
        if not adding:
            del self.fields["code"]
        else:
            del self.fields["change_note"]

    @staticmethod
    def initial_for(row: AdviceItem) -> dict[str, Any]:
        return {
            "domain": row.domain,
            "priority": row.priority,
            "title": row.title,
            "body": row.body,
            "title_en": row.title_en,
            "body_en": row.body_en,
            "citations": "\n".join(
                " | ".join([c.get("guideline", ""), c.get("edition", ""), c.get("section", "")])
                for c in row.citations
            ),
            "applies": "\n".join(" & ".join(g) for g in row.applies),
            "replaces": " ".join(row.replaces),
            "needs_clinician": row.needs_clinician,
        }

    def to_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            name: d.get(name, "")
            for name in (
                "domain",
                "priority",
                "title",
                "body",
                "title_en",
                "body_en",
                "citations",
                "applies",
                "replaces",
            )
        } | {"needs_clinician": bool(d.get("needs_clinician"))}

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, problems in errors.items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)
