"""Reading consent state. `has_consent` is the read API other apps build on (stable signature):

    careledger.consent.selectors.has_consent(
        *, client_id, purpose, partner_institution_id=None, at=None
    ) -> bool

`purpose` is a `careledger.consent.purposes.Purpose` (or its code string, e.g. "followup_sms";
`followup_purpose(channel)` maps a follow-up channel to its purpose). `share_partner` needs the
partner institution's id, every other purpose refuses one (`PurposeError`, a programming error).
`at=None` means now.

It reads the database on every call, with no cache and no signal: a withdrawal committed by
`services.do_withdraw` (or seen inside the same transaction) flips the answer for the very next
call, so a reminder sender or a share fetch that asks at the moment of acting stops at once.
It is a policy input for services that have already authorised their actor, so it is not itself
ledgered (the caller's own event records what it did); staff and portal *reads* of a client's
consents go through `client_consents` / `my_consents`, which are authorised and ledgered.
One query per call; `consented_purposes` answers for several purposes in one query.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.consent import fhir
from careledger.consent.models import Consent, ConsentText, TextStatus
from careledger.consent.purposes import FOLLOWUP_CHANNELS, Purpose, parse
from careledger.ledger import services as ledger
from careledger.portal.models import PortalAccount

VIEW_PURPOSE = "care"


def _in_force(at: dt.datetime | None) -> Q:
    when = at or timezone.now()
    return Q(given_at__lte=when) & (Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=when))


def has_consent(
    *,
    client_id: uuid.UUID | str,
    purpose: Purpose | str,
    partner_institution_id: uuid.UUID | str | None = None,
    at: dt.datetime | None = None,
) -> bool:
    """Whether the client's consent for this purpose (towards this partner) is in force."""
    chosen = parse(str(purpose), partner_institution_id)
    partner_key = str(uuid.UUID(str(partner_institution_id))) if partner_institution_id else ""
    return (
        Consent.objects.filter(
            _in_force(at), client_id=client_id, purpose=chosen.value, partner_key=partner_key
        )
        .order_by()
        .exists()
    )


def consented_purposes(
    *, client_id: uuid.UUID | str, at: dt.datetime | None = None
) -> frozenset[Purpose]:
    """Every non-partner purpose in force for the client (one query)."""
    codes = (
        Consent.objects.filter(_in_force(at), client_id=client_id, partner_key="")
        .order_by()
        .values_list("purpose", flat=True)
    )
    return frozenset(Purpose(c) for c in codes)


def consented_channels(
    *, client_id: uuid.UUID | str, at: dt.datetime | None = None
) -> frozenset[str]:
    """The follow-up channels ("phone", "sms", "wechat") the client has consented to."""
    purposes = consented_purposes(client_id=client_id, at=at)
    return frozenset(ch for ch, p in FOLLOWUP_CHANNELS.items() if p in purposes)


def consented_partners(
    *, client_id: uuid.UUID | str, at: dt.datetime | None = None
) -> frozenset[uuid.UUID]:
    """The partner institutions the client currently consents to share with."""
    ids = (
        Consent.objects.filter(
            _in_force(at), client_id=client_id, purpose=Purpose.SHARE_PARTNER.value
        )
        .order_by()
        .values_list("partner_institution_id", flat=True)
    )
    return frozenset(i for i in ids if i is not None)


def published_texts(institution_id: uuid.UUID) -> dict[str, ConsentText]:
    """The published text of each purpose (what can be consented to now)."""
    rows = ConsentText.objects.filter(institution_id=institution_id, status=TextStatus.PUBLISHED)
    return {row.purpose: row for row in rows}


@dataclass(frozen=True)
class ClientConsents:
    client: Client
    consents: list[Consent]  # newest first, withdrawn ones included (the history)
    texts: dict[str, ConsentText]
    emergency: bool = False

    @property
    def in_force(self) -> list[Consent]:
        return [c for c in self.consents if c.withdrawn_at is None]


def _history(client: Client) -> list[Consent]:
    return list(
        Consent.objects.filter(client=client).select_related("text").order_by("-given_at", "id")
    )


def client_consents(actor: User, client_id: uuid.UUID, *, fmt: str = "") -> ClientConsents:
    """A client's consents and their history, for staff (authorised and ledgered)."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.CONSENT_VIEW, client_scope(client), purpose=VIEW_PURPOSE)
    with transaction.atomic():
        rows = _history(client)
        texts = published_texts(client.institution_id)
        detail = {"consents": len(rows)}
        if fmt:
            detail["format"] = fmt
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.CONSENT_VIEW),
            purpose=decision.purpose(VIEW_PURPOSE),
            client_id=str(client.id),
            resource_type="Consent",
            detail=detail,
        )
    return ClientConsents(client, rows, texts, emergency=decision.emergency)


def as_fhir(client: Client, rows: list[Consent]) -> dict[str, object]:
    """The consent history as a FHIR R4 Bundle of validated Consent resources (pure mapping
    over rows the caller was allowed to read)."""
    resources = [
        fhir.validated(
            fhir.consent_resource(
                id=str(row.id),
                client_id=str(client.id),
                institution_id=str(client.institution_id),
                purpose=row.purpose,
                partner_institution_id=row.partner_key or None,
                partner_name=row.partner_name,
                text_id=str(row.text_id),
                text_version=row.text_version,
                text_title=row.text.title,
                text_sha256=row.text_sha256,
                method=row.method,
                given_at=row.given_at,
                withdrawn_at=row.withdrawn_at,
            )
        )
        for row in rows
    ]
    return fhir.bundle(resources, client_id=str(client.id))


def client_consents_fhir(actor: User, client_id: uuid.UUID) -> dict[str, object]:
    """Staff export of a client's full consent history as FHIR (authorised and ledgered)."""
    found = client_consents(actor, client_id, fmt="fhir")
    return as_fhir(found.client, found.consents)


# --- the portal: the signed-in client's own consents ------------------------------------


def my_consents(account: PortalAccount, *, fmt: str = "") -> ClientConsents:
    """The portal account's own consents and what may be consented to (ledgered)."""
    client = account.client
    with transaction.atomic():
        rows = _history(client)
        texts = published_texts(client.institution_id)
        detail: dict[str, object] = {"consents": len(rows)}
        if fmt:
            detail["format"] = fmt
        ledger.record(
            actor=actor_of(account.user),
            action="portal.consent.view",
            purpose="portal",
            client_id=str(client.id),
            resource_type="Consent",
            detail=detail,
        )
    return ClientConsents(client, rows, texts)
