"""Every write of a client's consents: desk capture, portal capture confirmed by a one-time
code, and withdrawal (by staff on the client's request, or by the client in the portal).

Desk capture (`do_record`) needs `consent.record` on the client (care team: health manager or
doctor) and a reference to the signed paper form or the recording, which is sealed under the
client's data key. Portal capture is two steps: `do_start_portal_consent` creates a challenge
(code HMAC only, five minutes, five tries; the portal's own rules) and enqueues the SMS after
commit; `do_confirm_portal_consent` checks the code under the challenge's row lock and grants.
Withdrawal (`do_withdraw`, `do_withdraw_portal`) sets `withdrawn_at` in one transaction; since
`selectors.has_consent` reads the row every time, the next check anywhere — in this request or
another — sees it, with no cache or signal to go stale.

Each write is one transaction with its ledger event, which seals the consent row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.consent.models import Consent, ConsentChallenge, ConsentText, Method, TextStatus
from careledger.consent.purposes import PurposeError, parse
from careledger.crypto import aead, keyring
from careledger.crypto.models import KeyScope
from careledger.ledger import services as ledger
from careledger.portal import rules
from careledger.portal.models import PortalAccount
from careledger.request_context import current

PURPOSE = "consent"
MAX_REFERENCE = 500
DESK_METHODS = frozenset({Method.PAPER, Method.RECORDING})


def _partner(purpose: str, partner_institution_id: uuid.UUID | str | None) -> str:
    try:
        parse(purpose, partner_institution_id)
    except PurposeError as exc:
        raise ValidationFailed({"purpose": [exc.code]}) from None
    return str(uuid.UUID(str(partner_institution_id))) if partner_institution_id else ""


def _published(client: Client, text_id: uuid.UUID) -> ConsentText:
    text = ConsentText.objects.filter(pk=text_id, institution=client.institution_id).first()
    if text is None or text.status != TextStatus.PUBLISHED:
        raise ValidationFailed({"text": ["not_published"]})
    return text


def _grant(
    *,
    client: Client,
    text: ConsentText,
    partner_key: str,
    partner_name: str,
    method: str,
    reference: str,
    recorded_by: User | None,
) -> Consent:
    consent = Consent(
        institution_id=client.institution_id,
        client=client,
        purpose=text.purpose,
        partner_institution_id=uuid.UUID(partner_key) if partner_key else None,
        partner_key=partner_key,
        partner_name=(partner_name or "").strip()[:200],
        text=text,
        text_version=text.version,
        text_sha256=text.body_sha256,
        method=method,
        reference=reference,
        given_at=timezone.now(),
        recorded_by=recorded_by,
    )
    try:
        with transaction.atomic():
            consent.save(force_insert=True)
    except IntegrityError:
        raise ValidationFailed({"purpose": ["already_in_force"]}) from None
    return consent


def _event(actor: ledger.Actor, op: str, consent: Consent, **detail: object) -> None:
    ledger.record(
        actor=actor,
        action=f"consent.{op}",
        purpose=PURPOSE,
        client_id=str(consent.client_id),
        resource_type="Consent",
        resource_id=str(consent.id),
        detail={
            "purpose": consent.purpose,
            "partner": consent.partner_key,
            "text_version": consent.text_version,
            "method": consent.method,
            **detail,
        },
        sealed=[consent],
    )


def check_can_record(*, actor: User, client_id: uuid.UUID) -> Client:
    client = Client.objects.get(pk=client_id)
    require(actor, Action.CONSENT_RECORD, client_scope(client), purpose=PURPOSE)
    return client


def _reference(method: str, reference: str) -> str:
    reference = (reference or "").strip()
    errors: dict[str, list[str]] = {}
    if method not in DESK_METHODS:
        errors["method"] = ["unknown_method"]
    if not reference:
        errors["reference"] = ["required"]
    elif len(reference) > MAX_REFERENCE:
        errors["reference"] = ["too_long"]
    if errors:
        raise ValidationFailed(errors)
    return reference


def do_record(
    *,
    actor: User,
    client_id: uuid.UUID,
    text_id: uuid.UUID,
    method: str,
    reference: str,
    partner_institution_id: uuid.UUID | str | None = None,
    partner_name: str = "",
) -> Consent:
    """Staff record a consent given at the desk, on paper or on a recording."""
    client = check_can_record(actor=actor, client_id=client_id)
    reference = _reference(method, reference)
    with transaction.atomic():
        text = _published(client, text_id)
        partner_key = _partner(text.purpose, partner_institution_id)
        consent = _grant(
            client=client,
            text=text,
            partner_key=partner_key,
            partner_name=partner_name,
            method=method,
            reference=reference,
            recorded_by=actor,
        )
        _event(actor_of(actor), "give", consent)
    return consent


def _withdraw(consent: Consent, *, by: User, method: str, reference: str) -> Consent:
    if consent.withdrawn_at is not None:
        raise ValidationFailed({"consent": ["already_withdrawn"]})
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = by
    consent.withdrawal_method = method
    consent.withdrawal_reference = reference
    consent.save(
        update_fields=[
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_method",
            "withdrawal_reference",
            "updated_at",
        ]
    )
    return consent


def do_withdraw(*, actor: User, consent_id: uuid.UUID, method: str, reference: str) -> Consent:
    """Staff record a withdrawal the client asked for (effective at once)."""
    consent = Consent.objects.select_related("client").get(pk=consent_id)
    require(actor, Action.CONSENT_RECORD, client_scope(consent.client), purpose=PURPOSE)
    reference = _reference(method, reference)
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent_id)
        _withdraw(consent, by=actor, method=method, reference=reference)
        _event(actor_of(actor), "withdraw", consent)
    return consent


# --- portal capture ----------------------------------------------------------------------


def code_hash(challenge_id: uuid.UUID, code: str) -> str:
    return salted_hmac(
        "careledger.consent.code", f"{challenge_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _binding(challenge_id: uuid.UUID) -> aead.Binding:
    return aead.Binding("consent_consentchallenge", "code", str(challenge_id))


def seal_code(institution_id: uuid.UUID, challenge_id: uuid.UUID, code: str) -> str:
    key = keyring.current(KeyScope.INSTITUTION, institution_id)
    return aead.seal(key.material, key.id, code.encode(), _binding(challenge_id))


def open_code(challenge_id: uuid.UUID, token: str) -> str:
    key = keyring.by_id(aead.key_id_of(token))
    return aead.open_sealed(key, token, _binding(challenge_id)).decode()


def _portal_actor(account: PortalAccount) -> ledger.Actor:
    return actor_of(account.user)


def do_start_portal_consent(
    *,
    account: PortalAccount,
    text_id: uuid.UUID,
    partner_institution_id: uuid.UUID | str | None = None,
    partner_name: str = "",
) -> ConsentChallenge:
    """The client asks to give a consent in the portal: a code goes to their phone."""
    client = account.client
    now = timezone.now()
    text = _published(client, text_id)
    partner_key = _partner(text.purpose, partner_institution_id)
    recent = ConsentChallenge.objects.filter(
        client=client, created_at__gt=now - rules.HOUR
    ).values_list("created_at", flat=True)
    decision = rules.rate_limit(list(recent), [], now)
    if not decision.allowed:
        raise ValidationFailed({"code": [decision.reason]})
    code = rules.new_code()
    with transaction.atomic():
        challenge = ConsentChallenge(
            institution_id=client.institution_id,
            client=client,
            text=text,
            partner_institution_id=uuid.UUID(partner_key) if partner_key else None,
            partner_name=(partner_name or "").strip()[:200],
            expires_at=now + rules.CODE_TTL,
        )
        challenge.code_hash = code_hash(challenge.id, code)
        challenge.save(force_insert=True)
        ledger.record(
            actor=_portal_actor(account),
            action="consent.code.request",
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="ConsentChallenge",
            resource_id=str(challenge.id),
            detail={"purpose": text.purpose, "text_version": text.version},
        )
        sealed = seal_code(client.institution_id, challenge.id, code)
        ctx = current()
        request_id = ctx.request_id if ctx else ""
        transaction.on_commit(lambda: _enqueue(str(challenge.id), sealed, request_id))
    return challenge


def _enqueue(challenge_id: str, sealed: str, request_id: str) -> None:
    import structlog

    from careledger.consent.tasks import deliver_consent_code

    try:
        deliver_consent_code.delay(challenge_id, sealed, request_id)
    except Exception:  # broker down: the client asks again after the interval
        structlog.get_logger("careledger.consent").exception("consent.code.enqueue_failed")


@dataclass(frozen=True)
class Confirmation:
    ok: bool
    reason: str = ""  # "", "wrong_code", "malformed", or a challenge state
    tries_left: int = 0
    consent: Consent | None = None


def do_confirm_portal_consent(
    *, account: PortalAccount, challenge_id: uuid.UUID, code: str
) -> Confirmation:
    """The client types the code: the consent is given (or the try is counted and ledgered)."""
    now = timezone.now()
    typed = rules.normalise_code(code)
    with transaction.atomic():
        challenge = (
            ConsentChallenge.objects.select_for_update()
            .filter(pk=challenge_id, client_id=account.client_id)
            .first()
        )
        if challenge is None:
            result = Confirmation(False, "unknown")
        else:
            state = rules.challenge_state(
                expires_at=challenge.expires_at,
                used_at=challenge.used_at,
                burnt_at=challenge.burnt_at,
                now=now,
            )
            if state != rules.OPEN:
                result = Confirmation(False, state)
            elif typed is None or not constant_time_compare(
                code_hash(challenge.id, typed), challenge.code_hash
            ):
                challenge.attempts, burnt = rules.after_wrong_try(challenge.attempts)
                if burnt:
                    challenge.burnt_at = now
                challenge.save(update_fields=["attempts", "burnt_at", "updated_at"])
                result = Confirmation(
                    False, "wrong_code", max(0, rules.MAX_TRIES - challenge.attempts)
                )
            else:
                result = Confirmation(True)
        if not result.ok:
            ledger.record(
                actor=_portal_actor(account),
                action="consent.give",
                outcome=ledger.Outcome.DENIED,
                purpose=PURPOSE,
                client_id=str(account.client_id),
                resource_type="ConsentChallenge",
                resource_id=str(challenge_id),
                detail={"reason": result.reason},
            )
            return result
        assert challenge is not None
        challenge.used_at = now
        text = ConsentText.objects.get(pk=challenge.text_id)
        if text.status != TextStatus.PUBLISHED:
            raise ValidationFailed({"text": ["not_published"]})
        consent = _grant(
            client=account.client,
            text=text,
            partner_key=str(challenge.partner_institution_id or ""),
            partner_name=challenge.partner_name,
            method=Method.PORTAL_OTP,
            reference="",
            recorded_by=account.user,
        )
        challenge.consent = consent
        challenge.save(update_fields=["used_at", "consent", "updated_at"])
        _event(_portal_actor(account), "give", consent, challenge=str(challenge.id))
    return Confirmation(True, consent=consent)


def do_withdraw_portal(*, account: PortalAccount, consent_id: uuid.UUID) -> Consent:
    """The client withdraws their own consent in the portal (as easy as giving it: PIPL
    Art. 15; no code needed, the signed-in session is theirs)."""
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .filter(pk=consent_id, client_id=account.client_id)
            .first()
        )
        if consent is not None:
            _withdraw(consent, by=account.user, method="portal", reference="")
            _event(_portal_actor(account), "withdraw", consent)
            return consent
    with transaction.atomic():  # a refusal is committed on its own
        ledger.record(
            actor=_portal_actor(account),
            action="consent.withdraw",
            outcome=ledger.Outcome.DENIED,
            purpose=PURPOSE,
            client_id=str(account.client_id),
            resource_type="Consent",
            resource_id=str(consent_id),
            detail={"reason": "not_your_consent"},
        )
    raise Consent.DoesNotExist("not this client's consent")
