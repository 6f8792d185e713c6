"""Every write of sharing: partners, grants (staff and portal), revocation, the signed share.

Names say intent (`check_*` authorises and validates, `do_*` writes); keyword-only arguments;
each write is one transaction with its ledger event, and each grant change seals the grant row.

* Partners (合作机构) are registered by the institution admin (`partner.manage`): the OAuth client
  is created with a random secret that is shown once and stored hashed (django-oauth-toolkit).
  Deactivating a partner revokes its tokens and stops new ones at once.
* Staff create a grant only when the client's consent to share with that partner
  (`share_partner`) is in force; the client creates one in the portal, where it waits for the
  one-time code sent to their phone (six digits, five minutes, five tries, HMAC stored) — and
  the consent must be in force there too, so one withdrawal stops every share.
* Revocation takes effect in the same transaction: the next fetch finds the grant revoked.
* `do_fetch_share` builds the share Bundle, ledgers the fetch (with the Bundle's digest), gets
  the receipt of that entry (inclusion proof and a signed tree head covering it) and signs the
  whole as a JWS with the institution's share key, all before the response leaves.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from oauth2_provider.models import AccessToken, Application

from careledger.access.enforce import actor_of, refuse, require
from careledger.access.policy import deny
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.crypto import signing
from careledger.fhirapi import gather, resources
from careledger.fhirapi import selectors as fhir_selectors
from careledger.fhirapi.validate import validate
from careledger.ledger import services as ledger
from careledger.ledger.receipts import receipt_for
from careledger.ledger.sth import key_id
from careledger.portal import rules as portal_rules
from careledger.sharing import access, categories, jws, verify
from careledger.sharing.models import Channel, GrantStatus, Partner, ShareGrant
from careledger.sharing.principal import PartnerPrincipal

PURPOSE = "share"
CONFIG_PURPOSE = "administration"


# --- partners ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    partner: Partner
    client_id: str
    client_secret: str  # shown once; only its hash is stored


def check_can_manage_partners(*, actor: User) -> None:
    require(actor, Action.PARTNER_MANAGE, purpose=CONFIG_PURPOSE)


def _clean_partner(name: str, code: str, scopes: Sequence[str]) -> tuple[str, str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    code = (code or "").strip()
    if not name:
        errors["name"] = ["required"]
    elif len(name) > 200:
        errors["name"] = ["too_long"]
    if not code:
        errors["code"] = ["required"]
    elif len(code) > 32 or not code.replace("-", "").isalnum():
        errors["code"] = ["letters_digits_hyphens"]
    allowed = categories.all_scopes()
    chosen = [s for s in allowed if s in set(scopes)]
    if not scopes:
        errors["scopes"] = ["required"]
    elif len(chosen) != len(set(scopes)):
        errors["scopes"] = ["unknown_scope"]
    if errors:
        raise ValidationFailed(errors)
    return name, code, chosen


def do_register_partner(*, actor: User, name: str, code: str, scopes: Sequence[str]) -> Registered:
    check_can_manage_partners(actor=actor)
    name, code, chosen = _clean_partner(name, code, scopes)
    if Partner.objects.filter(institution_id=actor.institution_id, code=code).exists():
        raise ValidationFailed({"code": ["already_registered"]})
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        app = Application(
            name=f"partner:{code}"[:255],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        app.save()
        partner = Partner.objects.create(
            institution_id=actor.institution_id,
            name=name,
            code=code,
            application=app,
            scopes=chosen,
            created_by=actor,
        )
        ledger.record(
            actor=actor_of(actor),
            action="partner.register",
            purpose=CONFIG_PURPOSE,
            resource_type="Partner",
            resource_id=str(partner.id),
            detail={"scopes": chosen},
            sealed=[partner],
        )
    return Registered(partner, app.client_id, secret)


def _own_partner(actor: User, partner_id: uuid.UUID) -> Partner:
    partner = Partner.objects.filter(pk=partner_id, institution_id=actor.institution_id).first()
    if partner is None:
        raise Partner.DoesNotExist(str(partner_id))
    return partner


def do_deactivate_partner(*, actor: User, partner_id: uuid.UUID) -> Partner:
    check_can_manage_partners(actor=actor)
    with transaction.atomic():
        partner = _own_partner(actor, partner_id)
        partner.is_active = False
        partner.save(update_fields=["is_active", "updated_at"])
        revoked = AccessToken.objects.filter(application_id=partner.application_id).delete()[0]
        ledger.record(
            actor=actor_of(actor),
            action="partner.deactivate",
            purpose=CONFIG_PURPOSE,
            resource_type="Partner",
            resource_id=str(partner.id),
            detail={"tokens_revoked": revoked},
            sealed=[partner],
        )
    return partner


def partners_of(*, actor: User) -> list[Partner]:
    check_can_manage_partners(actor=actor)
    return list(
        Partner.objects.filter(institution_id=actor.institution_id).select_related("application")
    )


def active_partners(institution_id: uuid.UUID) -> list[Partner]:
    """The partners a grant may name (no client data: an institution's list)."""
    return list(Partner.objects.filter(institution_id=institution_id, is_active=True))


# --- grants -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantInput:
    partner_id: uuid.UUID | None
    categories: Sequence[str]
    data_from: dt.date | None
    data_to: dt.date | None
    valid_days: int | None
    max_uses: int | None


def _clean(client: Client, data: GrantInput) -> tuple[Partner, list[str], int, int]:
    errors: dict[str, list[str]] = {}
    partner = None
    if data.partner_id is None:
        errors["partner"] = ["required"]
    else:
        partner = Partner.objects.filter(
            pk=data.partner_id, institution_id=client.institution_id, is_active=True
        ).first()
        if partner is None:
            errors["partner"] = ["unknown_partner"]
    try:
        chosen, days, uses = categories.clean_grant(
            categories=data.categories,
            data_from=data.data_from,
            data_to=data.data_to,
            valid_days=data.valid_days,
            max_uses=data.max_uses,
        )
    except categories.CategoryError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    assert partner is not None
    if not access.consent_in_force(client_id=client.id, partner_id=partner.id):
        raise ValidationFailed({"partner": ["no_consent"]})
    return partner, chosen, days, uses


def _grant_event(actor: ledger.Actor, op: str, grant: ShareGrant, **detail: Any) -> None:
    ledger.record(
        actor=actor,
        action=f"share.grant.{op}",
        purpose=PURPOSE,
        client_id=str(grant.client_id),
        resource_type="ShareGrant",
        resource_id=str(grant.id),
        detail={
            "partner": str(grant.partner_id),
            "categories": list(grant.categories),
            "status": grant.status,
            **detail,
        },
        sealed=[grant],
    )


def check_can_manage(*, actor: User, client_id: uuid.UUID) -> Client:
    client = Client.objects.get(pk=client_id)
    require(actor, Action.SHARE_MANAGE, client_scope(client), purpose=PURPOSE)
    return client


def _new_grant(
    client: Client,
    partner: Partner,
    chosen: list[str],
    days: int,
    uses: int,
    data: GrantInput,
    **fields: Any,
) -> ShareGrant:
    return ShareGrant(
        institution_id=client.institution_id,
        client=client,
        partner=partner,
        categories=chosen,
        data_from=data.data_from,
        data_to=data.data_to,
        expires_at=timezone.now() + dt.timedelta(days=days),
        max_uses=uses,
        **fields,
    )


def do_create_grant(*, actor: User, client_id: uuid.UUID, data: GrantInput) -> ShareGrant:
    """Staff create a grant on the client's behalf (their consent must be recorded)."""
    client = check_can_manage(actor=actor, client_id=client_id)
    partner, chosen, days, uses = _clean(client, data)
    with transaction.atomic():
        grant = _new_grant(
            client,
            partner,
            chosen,
            days,
            uses,
            data,
            status=GrantStatus.ACTIVE,
            channel=Channel.STAFF,
            created_by=actor,
            confirmed_at=timezone.now(),
        )
        grant.save()
        _grant_event(actor_of(actor), "create", grant, channel="staff")
    return grant


def _lock(grant_id: uuid.UUID, client_id: uuid.UUID) -> ShareGrant:
    grant = ShareGrant.objects.select_for_update().filter(pk=grant_id, client_id=client_id).first()
    if grant is None:
        raise ShareGrant.DoesNotExist(str(grant_id))
    return grant


def _revoke(actor: ledger.Actor, grant: ShareGrant, by: User | None, channel: str) -> ShareGrant:
    if grant.status == GrantStatus.REVOKED:
        raise ValidationFailed({"grant": ["already_revoked"]})
    grant.status = GrantStatus.REVOKED
    grant.revoked_at = timezone.now()
    grant.revoked_by = by
    grant.code_hash = ""
    grant.save(update_fields=["status", "revoked_at", "revoked_by", "code_hash", "updated_at"])
    _grant_event(actor, "revoke", grant, channel=channel)
    return grant


def do_revoke_grant(*, actor: User, client_id: uuid.UUID, grant_id: uuid.UUID) -> ShareGrant:
    check_can_manage(actor=actor, client_id=client_id)
    with transaction.atomic():
        return _revoke(actor_of(actor), _lock(grant_id, client_id), actor, "staff")


# --- the client in the portal -------------------------------------------------------------------


def code_hash(grant_id: uuid.UUID, code: str) -> str:
    return salted_hmac(
        "careledger.sharing.code", f"{grant_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _send_code(client: Client, code: str) -> None:
    from careledger.notifications import gateway
    from careledger.notifications.backends import NotificationError

    # A failed delivery is ledgered by the gateway; the client can ask again.
    with contextlib.suppress(NotificationError):
        gateway.send(
            channel="sms",
            to=client.phone,
            template="share_confirm_code",
            params={"code": code},
            client_id=client.id,
            purpose=PURPOSE,
        )


def do_start_portal_grant(*, account: Any, data: GrantInput) -> ShareGrant:
    """The client asks to share: a pending grant, and a code to their phone."""
    client = account.client
    partner, chosen, days, uses = _clean(client, data)
    recent = ShareGrant.objects.filter(
        client=client, channel=Channel.PORTAL, created_at__gt=timezone.now() - portal_rules.HOUR
    ).count()
    if recent >= portal_rules.PHONE_PER_HOUR:
        raise ValidationFailed({"code": ["rate_limited"]})
    code = portal_rules.new_code()
    now = timezone.now()
    with transaction.atomic():
        grant = _new_grant(
            client,
            partner,
            chosen,
            days,
            uses,
            data,
            status=GrantStatus.PENDING,
            channel=Channel.PORTAL,
            created_by=account.user,
            code_expires_at=now + dt.timedelta(seconds=settings.CARELEDGER_SHARE_CODE_SECONDS),
        )
        grant.code_hash = code_hash(grant.id, code)
        grant.save()
        _grant_event(actor_of(account.user), "request", grant, channel="portal")
        transaction.on_commit(lambda: _send_code(client, code))
    return grant


def do_confirm_portal_grant(*, account: Any, grant_id: uuid.UUID, code: str) -> ShareGrant:
    """The code from the SMS activates the pending grant; five wrong tries burn it."""
    typed = portal_rules.normalise_code(code)
    reason = ""
    with transaction.atomic():
        grant = _lock(grant_id, account.client_id)
        now = timezone.now()
        if grant.status != GrantStatus.PENDING or not grant.code_hash:
            reason = "not_pending"
        elif grant.code_expires_at is None or grant.code_expires_at <= now:
            reason = "code_expired"
        elif typed is None or not constant_time_compare(
            grant.code_hash, code_hash(grant.id, typed)
        ):
            grant.code_tries += 1
            reason = "wrong_code"
            if grant.code_tries >= portal_rules.MAX_TRIES:
                grant.code_hash = ""
                reason = "code_burnt"
            grant.save(update_fields=["code_tries", "code_hash", "updated_at"])
            _grant_event(actor_of(account.user), "confirm", grant, outcome=reason)
        elif not access.consent_in_force(client_id=grant.client_id, partner_id=grant.partner_id):
            reason = "no_consent"
        else:
            grant.status = GrantStatus.ACTIVE
            grant.confirmed_at = now
            grant.code_hash = ""
            grant.expires_at = now + (grant.expires_at - grant.created_at)
            grant.save(
                update_fields=["status", "confirmed_at", "code_hash", "expires_at", "updated_at"]
            )
            _grant_event(actor_of(account.user), "confirm", grant, channel="portal")
    if reason:
        if reason != "wrong_code" and reason != "code_burnt":
            with transaction.atomic():
                ledger.record(
                    actor=actor_of(account.user),
                    action="share.grant.confirm",
                    outcome=ledger.Outcome.DENIED,
                    purpose=PURPOSE,
                    client_id=str(account.client_id),
                    resource_type="ShareGrant",
                    resource_id=str(grant_id),
                    detail={"reason": reason},
                )
        raise ValidationFailed({"code": [reason]})
    return grant


def do_revoke_portal_grant(*, account: Any, grant_id: uuid.UUID) -> ShareGrant:
    with transaction.atomic():
        return _revoke(
            actor_of(account.user), _lock(grant_id, account.client_id), account.user, "portal"
        )


# --- the signed share -------------------------------------------------------------------------


def share_signer() -> signing.Signer:
    """The institution's share key, created on first use and announced in the ledger."""
    with transaction.atomic():
        signer, created = signing.current_signer(signing.SHARE)
        if created:
            ledger.record(
                actor=ledger.SYSTEM,
                action="share.key.create",
                purpose=CONFIG_PURPOSE,
                resource_type="SigningKey",
                resource_id=signer.key_id,
                detail={"purpose": signing.SHARE},
            )
    return signer


def published_keys() -> dict[str, Any]:
    """The JWKS a recipient checks shares with (share keys and ledger keys, retired too)."""
    share_signer()
    return jws.jwks(
        share_keys=signing.public_keys(signing.SHARE),
        ledger_keys=signing.public_keys(signing.LEDGER),
    )


@dataclass(frozen=True)
class Share:
    token: str
    seq: int
    resources: int
    bundle_sha256: str


def do_fetch_share(*, principal: PartnerPrincipal, grant_id: uuid.UUID, base: str) -> Share:
    """The signed share Bundle of one grant, for its recipient."""
    grant = (
        ShareGrant.objects.select_related("client", "client__institution")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None:
        raise ShareGrant.DoesNotExist(str(grant_id))
    client = grant.client
    granted = categories.types_of(grant.categories)
    types = [t for t in granted if categories.scope_allows(principal.scopes, t)]
    reason = access.check_grant(grant, partner_id=principal.partner.id, types=granted)
    if not reason and not types:
        reason = "scope_missing"
    if reason:
        raise refuse(
            principal, Action.SHARE_FETCH, deny(reason), client_id=str(client.id), purpose=PURPOSE
        )  # type: ignore[arg-type]
    require(
        principal,  # type: ignore[arg-type]
        Action.SHARE_FETCH,
        client_scope(client),
        purpose=PURPOSE,
        shared=frozenset({client.id}),
    )
    signer = share_signer()
    try:
        with transaction.atomic():
            grant = fhir_selectors.use_grant(principal, grant.id, types)
            window = (grant.data_from, grant.data_to)
            found = gather.gather(client, types, window)
            for resource in found:
                validate(resource)
            now = timezone.now()
            bundle = resources.collection(found, base=base, timestamp=now, id=str(uuid.uuid4()))
            digest = verify.bundle_digest(bundle)
            entry = fhir_selectors.record_fetch(
                principal=principal,
                grant=grant,
                interaction="bundle",
                types=types,
                count=len(found),
                resource_type="ShareGrant",
                resource_id=str(grant.id),
                bundle_sha256=digest,
            )
            receipt = receipt_for(entry.seq)
    except fhir_selectors._Refused as refused:
        raise refuse(
            principal,
            Action.SHARE_FETCH,
            deny(refused.reason),
            client_id=str(client.id),
            purpose=PURPOSE,
        ) from None  # type: ignore[arg-type]
    payload = {
        "format": verify.FORMAT,
        "issuer": {"institution": str(client.institution_id), "name": client.institution.name},
        "recipient": str(principal.partner.id),
        "grant": str(grant.id),
        "patient": str(client.id),
        "categories": list(grant.categories),
        "issued_at": resources.instant(now),
        "bundle": bundle,
        "ledger_receipt": receipt,
    }
    token = jws.sign(orjson.dumps(payload), private_key=signer.private_key(), kid=signer.key_id)
    assert key_id(signer.public_key) == signer.key_id
    return Share(token, entry.seq, len(found), digest)
