"""The one access policy: may this actor do this action to this client, and what is masked?

`decide()` is pure over plain values (so it is tested without a database and reads like the
rules it encodes); `careledger.access.enforce` feeds it from the database, records denials in
the ledger and raises. Deny by default: every path that is not explicitly allowed returns a
refusal with a reason code. The security-core issue extends the inputs (break-glass grants,
consent and share grants, MFA freshness) without changing the shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from careledger.access.roles import CLIENT_ACTIONS, Action, masks_identifiers, permits


@dataclass(frozen=True)
class Subject:
    """The acting user as the policy sees them."""

    user_id: uuid.UUID
    role: str
    institution_id: uuid.UUID | None
    is_active: bool
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ClientScope:
    """The client acted on: their tenant and the care teams that hold them."""

    client_id: uuid.UUID | None
    institution_id: uuid.UUID
    team_ids: frozenset[uuid.UUID]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    mask_identifiers: bool = False


def deny(reason: str) -> Decision:
    return Decision(False, reason)


def decide(subject: Subject, action: Action, scope: ClientScope | None = None) -> Decision:
    if not subject.is_active:
        return deny("inactive_account")
    if subject.institution_id is None:
        return deny("no_institution")
    if not permits(subject.role, action):
        return deny("role_lacks_permission")
    masked = masks_identifiers(subject.role)
    if scope is None:
        if action in CLIENT_ACTIONS:
            return deny("client_required")
        return Decision(True, "role_permits", masked)
    if scope.institution_id != subject.institution_id:
        return deny("other_institution")
    if not scope.team_ids & subject.team_ids:
        return deny("not_in_care_team")
    return Decision(True, "care_team_member", masked)
