"""Words for the retention pages, through Django i18n."""

from __future__ import annotations

from django.utils.translation import gettext as _


def status_labels() -> dict[str, str]:
    return {
        "active": _("Active"),
        "inactive": _("Inactive"),
        "archived": _("Archived"),
        "anonymised": _("Anonymised"),
        "erased": _("Erased"),
    }


def error(field: str, code: str) -> str:
    known = {
        "required": _("Please state the reason."),
        "too_long": _("This text is too long."),
        "too_short": _("The period must be at least 30 days."),
        "unknown_action": _("Choose archive or anonymise."),
        "not_archived": _("This client is not archived."),
        "not_allowed": _("Choose how long you need access."),
        "unknown_ground": _("Choose the ground for erasure."),
        "request_open": _("An erasure request for this client is already waiting."),
        "already_decided": _("This request was already decided."),
        "legal_hold": _("A legal hold stops this erasure."),
        "already_released": _("This hold was already released."),
    }
    return known.get(code, f"{field}: {code}")
