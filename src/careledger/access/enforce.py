"""Applying the policy: build the subject from the database, decide, ledger the refusals.

Call `require()` before opening the transaction of the work it guards: a denial is committed to
the ledger in its own transaction (the refused work never starts), and `AccessDenied` is raised.
Allowed accesses are ledgered by the service or selector that does the work, inside its own
transaction, so the event commits with the access it describes.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from careledger.access.models import BreakGlassGrant
from careledger.access.policy import ClientScope, Decision, Subject, decide
from careledger.access.roles import EMERGENCY_ACTIONS, Action
from careledger.accounts.models import User
from careledger.institutions.models import CareTeamMembership
from careledger.ledger import services as ledger

_TEAM_CACHE = "_careledger_team_ids"
_DEPARTMENT_CACHE = "_careledger_department_ids"


class AccessDenied(PermissionDenied):
    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def team_ids(user: User) -> frozenset[uuid.UUID]:
    """The user's care teams, read once per request (the user object lives one request)."""
    cached = getattr(user, _TEAM_CACHE, None)
    if cached is None:
        rows = list(
            CareTeamMembership.objects.filter(user=user, care_team__is_active=True).values_list(
                "care_team_id", "care_team__department_id"
            )
        )
        cached = frozenset(team for team, _department in rows)
        setattr(user, _TEAM_CACHE, cached)
        # The ledger records the actor's department (FHIR AuditEvent agent), from the same rows.
        setattr(user, _DEPARTMENT_CACHE, ",".join(sorted({str(d) for _t, d in rows})))
    return cached


def department_of(user: User) -> str:
    """The department(s) of the user's active care teams, comma-joined ("" when none)."""
    team_ids(user)
    return getattr(user, _DEPARTMENT_CACHE, "")


def emergency_client_ids(user: User) -> frozenset[uuid.UUID]:
    """Clients the user holds an unexpired, unended break-glass grant for (read when needed)."""
    return frozenset(
        BreakGlassGrant.objects.filter(
            user=user, expires_at__gt=timezone.now(), ended_at__isnull=True
        ).values_list("client_id", flat=True)
    )


def decide_for(
    user: User,
    action: Action,
    scope: ClientScope | None = None,
    *,
    shared: frozenset[uuid.UUID] = frozenset(),
) -> Decision:
    """The policy's answer for a user from the database. Break-glass grants are only read when
    the care team does not already allow the action, so the common path costs no extra query.
    `shared`: the clients a partner's active share grants cover for this request (sharing)."""
    subject = subject_of(user)
    if shared:
        subject = replace(subject, shared_client_ids=frozenset(shared))
    decision = decide(subject, action, scope)
    if (
        not decision.allowed
        and decision.reason == "not_in_care_team"
        and action in EMERGENCY_ACTIONS
        and subject.is_active
    ):
        subject = replace(subject, emergency_client_ids=emergency_client_ids(user))
        decision = decide(subject, action, scope)
    if not decision.allowed and decision.reason == "archived_needs_reason":
        # An archived client: read only while the user holds a reason they stated (retention).
        subject = replace(subject, archive_client_ids=archive_client_ids(user))
        decision = decide(subject, action, scope)
    return decision


def archive_client_ids(user: User) -> frozenset[uuid.UUID]:
    """Archived clients the user stated a reason to read, unexpired (read only when needed)."""
    from careledger.clients.models import ArchiveAccess  # clients builds on access: no cycle

    return frozenset(
        ArchiveAccess.objects.filter(user=user, expires_at__gt=timezone.now()).values_list(
            "client_id", flat=True
        )
    )


def subject_of(user: User) -> Subject:
    if not getattr(user, "is_authenticated", False):
        return Subject(uuid.UUID(int=0), "anonymous", None, False)
    return Subject(user.id, user.role, user.institution_id, user.is_active, team_ids(user))


def actor_of(user: User) -> ledger.Actor:
    if not getattr(user, "is_authenticated", False):
        return ledger.Actor(id="anonymous", role="anonymous", institution_id="")
    return ledger.Actor(
        id=str(user.id),
        role=user.role,
        institution_id=str(user.institution_id or ""),
        department=department_of(user),
    )


def refuse(
    user: User, action: Action, decision: Decision, *, client_id: str = "", purpose: str = ""
) -> AccessDenied:
    """Ledger a refusal in its own transaction and return the exception to raise."""
    with transaction.atomic():
        ledger.record(
            actor=actor_of(user),
            action=str(action),
            outcome=ledger.Outcome.DENIED,
            purpose=purpose,
            client_id=client_id,
            detail={"reason": decision.reason},
        )
    return AccessDenied(decision)


def require(
    user: User,
    action: Action,
    scope: ClientScope | None = None,
    *,
    purpose: str = "",
    shared: frozenset[uuid.UUID] = frozenset(),
) -> Decision:
    decision = decide_for(user, action, scope, shared=shared)
    if not decision.allowed:
        client_id = str(scope.client_id) if scope and scope.client_id else ""
        raise refuse(user, action, decision, client_id=client_id, purpose=purpose)
    return decision
