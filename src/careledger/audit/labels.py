"""Words for the codes the ledger stores (roles and purposes of use), for the auditor's pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from careledger.accounts.models import Role

PURPOSES = {
    "care": _("Care"),
    "emergency": _("Emergency"),
    "enrolment": _("Enrolment"),
    "registry_update": _("Record update"),
    "oversight": _("Oversight"),
}


def role_label(code: str) -> str:
    return str(dict(Role.choices).get(code, code))


def purpose_label(code: str) -> str:
    return str(PURPOSES.get(code, code))
