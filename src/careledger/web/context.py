"""The workbench navigation: what each role's menu shows (items the policy would refuse are not
shown; the views still ask the policy, the menu is a convenience, not the control)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from careledger.access.roles import Action, permits

NAV = [
    ("web:home", _("Workbench"), None, "house"),
    ("clients:list", _("My clients"), Action.CLIENT_LIST, "people"),
    ("clients:search", _("Search"), Action.CLIENT_SEARCH, "search"),
    ("clients:enrol", _("Enrol client"), Action.CLIENT_ENROL, "person-plus"),
    ("web:teams", _("Care teams"), Action.TEAM_VIEW, "diagram-3"),
]


def workbench(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        items = [
            {"url": url, "label": label, "icon": icon}
            for url, label, action, icon in NAV
            if action is None or permits(user.role, action)
        ]
    return {"nav_items": items, "demo_mode": settings.DEMO_MODE}
