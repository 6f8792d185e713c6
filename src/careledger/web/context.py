"""The workbench shell's context: what each role's menu shows, and what it may offer.

Items and buttons the policy would refuse are not shown; the views still ask the policy, so
the menu is a convenience, not the control.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from careledger.access.roles import Action, masks_identifiers, permits

NAV = [
    ("web:home", _("Workbench"), None, "house"),
    ("clients:list", _("My clients"), Action.CLIENT_LIST, "people"),
    ("clients:search", _("Client search"), Action.CLIENT_SEARCH, "search"),
    ("clients:enrol", _("Enrol client"), Action.CLIENT_ENROL, "person-plus"),
    ("exams:imports", _("Report sync"), Action.EXAM_IMPORT, "cloud-arrow-up"),
    ("followup:queue", _("Follow-up queue"), Action.FOLLOWUP_QUEUE, "telephone"),
    ("booking_desk:desk", _("Front desk"), Action.BOOKING_CHECKIN, "person-check"),
    ("web:teams", _("Care teams"), Action.TEAM_VIEW, "diagram-3"),
    ("config:codes", _("Code mapping"), Action.CATALOGUE_MAP, "signpost-split"),
    ("questionnaires_config:list", _("Questionnaires"), Action.QUESTIONNAIRE_MANAGE, "ui-checks"),
    ("tagging_config:list", _("Tag rules"), Action.TAG_RULE_MANAGE, "tags"),
    ("advice_config:catalogue", _("Advice catalogue"), Action.ADVICE_MANAGE, "journal-medical"),
    ("sharing_config:partners", _("Partner institutions"), Action.PARTNER_MANAGE, "building"),
    ("consent_config:list", _("Consent texts"), Action.CONSENT_TEXT_MANAGE, "file-earmark-check"),
    ("retention_config:home", _("Retention and erasure"), Action.RETENTION_MANAGE, "archive"),
    ("retention_config:erasures", _("Erasure approvals"), Action.ERASURE_APPROVE, "trash3"),
    ("booking_config:packages", _("Check-up packages"), Action.PACKAGE_MANAGE, "box-seam"),
    ("followup_config:plans", _("Follow-up plans"), Action.FOLLOWUP_PLAN_MANAGE, "calendar2-week"),
    ("accounts:admin_users", _("Staff accounts"), Action.USER_VIEW, "person-gear"),
    ("exports:list", _("Data exports"), Action.EXPORT_REQUEST, "box-arrow-up"),
    ("exports:list", _("Export approvals"), Action.EXPORT_APPROVE, "clipboard-check"),
    ("audit:events", _("Audit log"), Action.AUDIT_VIEW, "journal-text"),
    ("audit:break_glass_queue", _("Emergency access review"), Action.BREAK_GLASS_REVIEW, "unlock"),
    ("audit:alerts", _("Security alerts"), Action.ALERT_MANAGE, "bell"),
]

# What the templates may offer, by the name they use (`{% if can.enrol %}`).
CAN = {
    "enrol": Action.CLIENT_ENROL,
    "list": Action.CLIENT_LIST,
    "search": Action.CLIENT_SEARCH,
    "view": Action.CLIENT_VIEW,
    "edit": Action.CLIENT_UPDATE,
    "history": Action.CLIENT_HISTORY,
    "teams": Action.TEAM_VIEW,
    "audit": Action.AUDIT_VIEW,
    "audit_export": Action.AUDIT_EXPORT,
    "alerts": Action.ALERT_MANAGE,
    "break_glass": Action.BREAK_GLASS,
    "break_glass_review": Action.BREAK_GLASS_REVIEW,
    "imports": Action.EXAM_IMPORT,
    "quarantine": Action.EXAM_QUARANTINE,
    "import_sources": Action.EXAM_SOURCE_MANAGE,
    "map_codes": Action.CATALOGUE_MAP,
}


def _institution_name(user: Any) -> str:
    institution = getattr(user, "institution", None)
    return institution.name if institution is not None else ""


def workbench(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items: list[dict[str, Any]] = []
    can = dict.fromkeys(CAN, False)
    masked = False
    institution: Any = ""
    if user is not None and user.is_authenticated:
        items = [
            {"url": url, "label": label, "icon": icon}
            for url, label, action, icon in NAV
            if action is None or permits(user.role, action)
        ]
        can = {name: permits(user.role, action) for name, action in CAN.items()}
        masked = masks_identifiers(user.role)
        # Read only when a template shows it (error pages of anonymous visitors never do).
        institution = SimpleLazyObject(lambda: _institution_name(user))
    return {
        "nav_items": items,
        "can": can,
        "identifiers_masked": masked,
        "institution_name": institution,
        "request_id": getattr(request, "request_id", ""),
        "demo_mode": settings.DEMO_MODE,
    }
