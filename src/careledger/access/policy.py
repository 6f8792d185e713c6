"""The one access policy: may this actor do this action to this client, and what is masked?

`decide()` is pure over plain values (so it is tested without a database and reads like the
rules it encodes); `careledger.access.enforce` feeds it from the database, records denials in
the ledger and raises. Deny by default: every path that is not explicitly allowed returns a
refusal with a reason code.

Break-glass (紧急访问): a clinical user outside the client's care teams may hold a time-boxed grant
for one client (given with a reason, flagged for auditor review, raising an alert; see
`careledger.access.breakglass`). The grant widens nothing but reading that one client's record
in the user's own institution; the decision says `emergency=True` so the read is ledgered with
the purpose "emergency" and shows up in the review queue.

Share grants (跨机构共享): a partner institution's OAuth client is a subject of role "partner",
tenant = the institution that registered it, no care team; it may act on a client only when
`shared_client_ids` holds them (careledger.sharing fills it with the clients whose active grant
covers the request). The same inputs, the same shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from careledger.access.roles import (
    CLIENT_ACTIONS,
    EMERGENCY_ACTIONS,
    PARTNER,
    Action,
    masks_identifiers,
    permits,
)


@dataclass(frozen=True)
class Subject:
    """The acting user as the policy sees them."""

    user_id: uuid.UUID
    role: str
    institution_id: uuid.UUID | None
    is_active: bool
    team_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Clients this user holds an active (unexpired) break-glass grant for.
    emergency_client_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Archived clients this user stated a reason to read (an unexpired `ArchiveAccess`).
    archive_client_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    # Clients whose active share grant covers what a partner asks for now (sharing finds them:
    # the grant's recipient, categories, data window, expiry, uses left and the consent).
    shared_client_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ClientScope:
    """The client acted on: their tenant and the care teams that hold them."""

    client_id: uuid.UUID | None
    institution_id: uuid.UUID
    team_ids: frozenset[uuid.UUID]
    # The client's registry status (clients.ClientStatus): archived clients are read only with
    # a stated reason; anonymised and erased ones are not processed at all (retention).
    status: str = "active"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    mask_identifiers: bool = False
    emergency: bool = False

    def purpose(self, requested: str) -> str:
        """The purpose of use the ledger records: an emergency read says so, whatever was asked."""
        return "emergency" if self.emergency else requested


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
    if subject.role == PARTNER:
        # A partner institution has no care team: a share grant is its only way to a client.
        if scope.client_id is not None and scope.client_id in subject.shared_client_ids:
            return Decision(True, "share_grant", masked)
        return deny("no_share_grant")
    in_team = bool(scope.team_ids & subject.team_ids)
    if action == Action.BREAK_GLASS:
        # Asking for emergency access only makes sense for a client one cannot already see.
        return deny("already_in_care_team") if in_team else Decision(True, "emergency", masked)
    if in_team:
        return _retained(subject, action, scope, Decision(True, "care_team_member", masked))
    if action in EMERGENCY_ACTIONS and scope.client_id in subject.emergency_client_ids:
        emergency = Decision(True, "break_glass", masked, emergency=True)
        return _retained(subject, action, scope, emergency)
    return deny("not_in_care_team")


# Retention (careledger.retention): what may still happen to a client who is no longer active.
# Archived means stored and protected only (PIPL Art. 47): reading needs a stated reason (an
# `ArchiveAccess` grant), nothing is changed except what reduces processing (a consent
# withdrawn, an erasure asked for) or asks for the reason itself. An anonymised or erased client
# is not processed at all (their sealed data no longer opens).
ARCHIVE_READS = EMERGENCY_ACTIONS
ARCHIVE_ALWAYS = frozenset(
    {Action.ARCHIVE_ACCESS, Action.ERASURE_REQUEST, Action.CONSENT_RECORD, Action.CONSENT_VIEW}
)
GONE = frozenset({"anonymised", "erased"})


def _retained(subject: Subject, action: Action, scope: ClientScope, allowed: Decision) -> Decision:
    if scope.status in GONE:
        return deny("client_erased")
    if scope.status != "archived" or action in ARCHIVE_ALWAYS:
        return allowed
    if action not in ARCHIVE_READS:
        return deny("client_archived")
    if scope.client_id in subject.archive_client_ids:
        return replace(allowed, reason="archive_reason")
    return deny("archived_needs_reason")
