"""The words printed on a report, translated when it is printed (Chinese first). They go into
the document itself, so drawing it again later gives the same pages whatever the language then.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

FLAG_KEYS = {"H": "flag_high", "L": "flag_low", "HH": "flag_critical", "LL": "flag_critical"}


def labels() -> dict[str, str]:
    return {
        "title": _("Health report"),
        "footer": _(
            "Page {page}/{pages} · print {print_id} · check it by scanning the QR code or "
            "with careledger report verify"
        ),
        "printed_at": _("Printed at"),
        "print_id": _("Print id"),
        "printed_by": _("Printed by"),
        "purpose": _("Purpose"),
        "verify_hint": _(
            "Signed by the institution: scan the QR code to check that this report is authentic "
            "and unaltered."
        ),
        "client": _("Client"),
        "name": _("Name"),
        "sex": _("Sex"),
        "age": _("Age"),
        "card_number": _("Membership card"),
        "document_number": _("ID number"),
        "phone": _("Mobile phone"),
        "masked_note": _("Identifiers are partly hidden for your role."),
        "abnormal": _("Abnormal findings"),
        "col_indicator": _("Indicator"),
        "col_value": _("Result"),
        "col_unit": _("Unit"),
        "col_flag": _("Flag"),
        "col_range": _("Reference range"),
        "col_date": _("Date"),
        "trends": _("Trends of key indicators"),
        "risks": _("Risk assessments"),
        "inputs": _("Inputs"),
        "source": _("Source"),
        "not_applicable": _("not applicable"),
        "advice": _("Health advice"),
        "issued_by": _("Issued {at} by {by}"),
        "note": _("Personal note"),
        "tags": _("Tags"),
        "stage_summary": _("Stage summary"),
        "care_plan": _("Intervention and wellness plan"),
        "none_recorded": _("None recorded"),
        "flag_high": _("High"),
        "flag_low": _("Low"),
        "flag_critical": _("Critical"),
        "flag_abnormal": _("Abnormal"),
        "yes": _("yes"),
        "no": _("no"),
        "male": _("Male"),
        "female": _("Female"),
    }
