"""Which grant lets this partner see this client now, or why none does (database reads).

`usable_grant` is asked for every partner request before the policy: it returns the grant that
covers the resource types asked for, or the most specific reason none does, in the order a
reader would want it explained — not the recipient, revoked, still pending, expired, used up,
consent withdrawn, category not granted. The caller then asks `access.enforce.require` with
that client as `shared` (the policy's rule), and ledgers the reason when there is no grant.

`consent_in_force` is the one place that reads `careledger.consent`: purpose `share_partner`
towards this partner, read at the moment of use, so a withdrawal stops the very next fetch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.utils import timezone

from careledger.sharing.models import GrantStatus, ShareGrant

SHARE_PURPOSE = "share_partner"


def consent_in_force(
    *, client_id: uuid.UUID, partner_id: uuid.UUID, at: dt.datetime | None = None
) -> bool:
    from careledger.consent.selectors import has_consent

    return has_consent(
        client_id=client_id, purpose=SHARE_PURPOSE, partner_institution_id=partner_id, at=at
    )


def why_not(
    grant: ShareGrant, *, partner_id: uuid.UUID, types: Sequence[str], now: dt.datetime
) -> str:
    """ "" when the grant allows the types now, else a reason code (no consent read yet)."""
    from careledger.sharing.categories import types_of

    if grant.partner_id != partner_id:
        return "not_the_recipient"
    if grant.status == GrantStatus.REVOKED:
        return "grant_revoked"
    if grant.status != GrantStatus.ACTIVE:
        return "grant_not_confirmed"
    if grant.expires_at <= now:
        return "grant_expired"
    if grant.uses >= grant.max_uses:
        return "grant_used_up"
    allowed = set(types_of(grant.categories))
    if not set(types) <= allowed:
        return "category_not_granted"
    return ""


def check_grant(
    grant: ShareGrant,
    *,
    partner_id: uuid.UUID,
    types: Sequence[str],
    now: dt.datetime | None = None,
) -> str:
    now = now or timezone.now()
    reason = why_not(grant, partner_id=partner_id, types=types, now=now)
    if reason:
        return reason
    if not consent_in_force(client_id=grant.client_id, partner_id=partner_id, at=now):
        return "consent_withdrawn"
    return ""


def usable_grant(
    *, partner_id: uuid.UUID, client_id: uuid.UUID, types: Sequence[str]
) -> tuple[ShareGrant | None, str]:
    """The newest grant of this partner for this client that allows `types` now, or (None,
    the reason of the most recent grant; "no_share_grant" when there is none at all)."""
    now = timezone.now()
    grants = list(
        ShareGrant.objects.filter(partner_id=partner_id, client_id=client_id).order_by(
            "-created_at"
        )[:20]
    )
    if not grants:
        return None, "no_share_grant"
    first_reason = ""
    for grant in grants:
        reason = why_not(grant, partner_id=partner_id, types=types, now=now)
        if not reason:
            if consent_in_force(client_id=client_id, partner_id=partner_id, at=now):
                return grant, ""
            reason = "consent_withdrawn"
        first_reason = first_reason or reason
    return None, first_reason
