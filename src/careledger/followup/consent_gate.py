"""Which channel a client may be followed up on: the one place follow-up asks consent.

The rule (PIPL; the product's "consent per channel"): a task is never created on a phone, SMS
or WeChat channel the client has not consented to, and a withdrawal cancels open tasks on that
channel. A visit (上门/到院) needs no channel consent beyond the care relationship itself.

Two readers over `careledger.consent`:

* `may_contact(client_id, channel)` — one client, at the moment of acting (the perform page and
  the click-to-call gateway ask it just before dialling), through the consent app's own
  `has_consent`.
* `consented_clients(...)` — the scheduler's set-based form: the subquery of clients whose
  consent for the channel's purpose is in force now, so a run over 100,000 clients asks the
  database once per channel instead of once per client. It uses the consent app's model with
  the same "in force" rule as `has_consent` (given, and not withdrawn, at that moment).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from careledger.consent.models import Consent
from careledger.consent.purposes import FOLLOWUP_CHANNELS
from careledger.consent.selectors import has_consent

NEEDS_CONSENT = frozenset(FOLLOWUP_CHANNELS)  # phone, sms, wechat


def may_contact(*, client_id: uuid.UUID | str, channel: str, at: dt.datetime | None = None) -> bool:
    if channel not in NEEDS_CONSENT:
        return True
    return has_consent(client_id=client_id, purpose=FOLLOWUP_CHANNELS[channel], at=at)


def consented_clients(
    *, institution_id: uuid.UUID, channel: str, at: dt.datetime | None = None
) -> QuerySet | None:
    """The ids of the institution's clients who may be contacted on `channel` now, as a
    subquery (None: the channel needs no consent, everyone may be)."""
    if channel not in NEEDS_CONSENT:
        return None
    when = at or timezone.now()
    return (
        Consent.objects.filter(
            Q(given_at__lte=when) & (Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=when)),
            institution_id=institution_id,
            purpose=FOLLOWUP_CHANNELS[channel].value,
            partner_key="",
        )
        .order_by()
        .values("client_id")
    )


def consent_in_force(*, channel: str, at: dt.datetime | None = None) -> Exists:
    """`Exists(...)` over the outer row's `client_id`: whether that client's consent for the
    channel is in force (for filtering tasks with NOT EXISTS, which PostgreSQL plans as an
    anti-join where NOT IN over a subquery is not)."""
    when = at or timezone.now()
    return Exists(
        Consent.objects.filter(
            Q(given_at__lte=when) & (Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=when)),
            client_id=OuterRef("client_id"),
            purpose=FOLLOWUP_CHANNELS[channel].value,
            partner_key="",
        )
    )
