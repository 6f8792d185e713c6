"""Words for the consent pages (through Django i18n, so Chinese first with English beside):
purposes, methods and the error codes the services raise."""

from __future__ import annotations

from django.utils.translation import gettext as _

ORDER = (
    "health_management",
    "sensitive_pi",
    "followup_phone",
    "followup_sms",
    "followup_wechat",
    "research",
    "share_partner",
)


def purpose_labels() -> dict[str, str]:
    return {
        "health_management": _("Health management"),
        "sensitive_pi": _("Sensitive personal information (separate consent)"),
        "followup_phone": _("Follow-up by phone"),
        "followup_sms": _("Follow-up and reminders by SMS"),
        "followup_wechat": _("Follow-up by WeChat"),
        "research": _("Research use (de-identified)"),
        "share_partner": _("Sharing with a partner institution"),
    }


def error(field: str, code: str) -> str:
    known = {
        "already_in_force": _("This consent is already in force."),
        "already_withdrawn": _("This consent was already withdrawn."),
        "not_published": _("Choose a published consent text."),
        "partner_required": _("Sharing needs the partner institution it is for."),
        "partner_not_allowed": _("Only sharing names a partner institution."),
        "unknown_purpose": _("Unknown purpose."),
        "unknown_method": _("Choose how the consent was given."),
        "required": _("This field is required."),
        "too_long": _("This text is too long."),
        "draft_exists": _("There is already a draft for this purpose; edit or publish it."),
        "published_text_is_immutable": _("A published text cannot be changed; make a new version."),
        "not_a_draft": _("Only a draft can be published."),
        "phone_interval": _("A code was sent moments ago. Please wait a minute."),
        "phone_hourly": _("Too many codes were asked for. Please try again later."),
    }
    return known.get(code, f"{field}: {code}")
