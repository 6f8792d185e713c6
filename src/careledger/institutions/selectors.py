"""Reads of the organisation's structure (no client content): teams, members, counts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from careledger.access.enforce import require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.institutions.models import CareTeam, CareTeamMembership


@dataclass(frozen=True)
class TeamRow:
    id: str
    name: str
    department: str
    client_count: int
    members: tuple[tuple[str, str, str], ...]  # (shown name, role label, team role label)


def teams_of(user: User) -> list[CareTeam]:
    if not user.is_authenticated:
        return []
    return list(
        CareTeam.objects.filter(memberships__user=user, is_active=True)
        .select_related("department")
        .annotate(client_total=Count("client_links", distinct=True))
        .order_by("name")
    )


def workbench_stats(user: User) -> dict[str, int]:
    teams = teams_of(user)
    return {"teams": len(teams), "clients": sum(t.client_total for t in teams)}


def institution_overview(user: User) -> list[TeamRow]:
    require(user, Action.TEAM_VIEW, purpose="administration")
    teams = list(
        CareTeam.objects.filter(institution_id=user.institution_id)
        .select_related("department")
        .annotate(client_total=Count("client_links", distinct=True))
        .order_by("department__name", "name")
    )
    members: dict[object, list[tuple[str, str, str]]] = {}
    for m in CareTeamMembership.objects.filter(care_team__in=teams).select_related("user"):
        members.setdefault(m.care_team_id, []).append(
            (m.user.shown_name, m.user.get_role_display(), m.get_role_display())
        )
    return [
        TeamRow(
            id=str(t.id),
            name=t.name,
            department=t.department.name,
            client_count=t.client_total,
            members=tuple(sorted(members.get(t.id, []))),
        )
        for t in teams
    ]
