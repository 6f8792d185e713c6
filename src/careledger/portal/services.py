"""Portal sign-in: ask for a code, check it, sign in, sign out. Every step is ledgered.

`do_request_code` does the same work for every number (looks the number up through the blind
index, counts recent requests, creates a challenge, ledgers, enqueues a delivery task) and
answers the same way whether or not the number is a client's: only the background task, after
the response has gone, knows whether there is anyone to send to. So neither the answer nor its
timing tells an outsider which numbers are registered (the delivery, which takes as long as the
SMS provider takes, is not on the request's path).

The code travels to the worker sealed (AES-256-GCM under the institution's data key, bound to the
challenge id), because broker queues are files or Redis entries that outlive the request; the
database holds only its HMAC.

`do_verify_code` locks the challenge row, so two concurrent tries of one code are counted one
after the other and a code signs in at most once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from careledger.access.enforce import actor_of
from careledger.accounts.models import Role, User
from careledger.clients import indexing
from careledger.clients.models import Client, ClientStatus
from careledger.crypto import aead, keyring
from careledger.crypto.models import KeyScope
from careledger.institutions.models import Institution
from careledger.ledger import services as ledger
from careledger.portal import rules
from careledger.portal.models import LoginChallenge, PortalAccount
from careledger.request_context import current

PURPOSE = "portal_login"
SENT = "sent"
RATE_LIMITED = "rate_limited"


def phone_key(phone: str) -> str:
    """A keyed hash of a normalised number, to count requests per number without storing it."""
    return salted_hmac("careledger.portal.phone", phone, algorithm="sha256").hexdigest()


def ip_key(ip: str) -> str:
    return salted_hmac("careledger.portal.ip", ip or "-", algorithm="sha256").hexdigest()


def code_hash(challenge_id: uuid.UUID, code: str) -> str:
    # Bound to the challenge: a code is good only for the request that produced it.
    return salted_hmac(
        "careledger.portal.code", f"{challenge_id}:{code}", algorithm="sha256"
    ).hexdigest()


def _binding(challenge_id: uuid.UUID) -> aead.Binding:
    return aead.Binding("portal_loginchallenge", "code", str(challenge_id))


def seal_code(institution_id: uuid.UUID, challenge_id: uuid.UUID, code: str) -> str:
    key = keyring.current(KeyScope.INSTITUTION, institution_id)
    return aead.seal(key.material, key.id, code.encode(), _binding(challenge_id))


def open_code(challenge_id: uuid.UUID, token: str) -> str:
    key = keyring.by_id(aead.key_id_of(token))
    return aead.open_sealed(key, token, _binding(challenge_id)).decode()


def anonymous(institution_id: uuid.UUID | str | None) -> ledger.Actor:
    return ledger.Actor(id="anonymous", role="anonymous", institution_id=str(institution_id or ""))


@dataclass(frozen=True)
class CodeRequest:
    outcome: str  # SENT (as far as the requester can tell) or RATE_LIMITED
    challenge_id: uuid.UUID | None = None
    reason: str = ""
    retry_after: int = 0


def find_client(institution: Institution, phone: str) -> Client | None:
    """The active client of this institution with this (normalised) number, if any."""
    return (
        Client.objects.filter(
            institution=institution,
            phone_index=indexing.phone_index(institution.id, phone),
            status=ClientStatus.ACTIVE,
        )
        .only("id", "institution_id")
        .first()
    )


def do_request_code(
    *, institution_id: uuid.UUID, phone: str, ip: str, now: dt.datetime | None = None
) -> CodeRequest:
    """Ask for a sign-in code for a normalised mainland mobile number."""
    now = now or timezone.now()
    institution = Institution.objects.get(pk=institution_id)
    pkey, ikey = phone_key(phone), ip_key(ip)
    since = now - rules.HOUR
    phone_times = LoginChallenge.objects.filter(phone_key=pkey, created_at__gt=since)
    ip_times = LoginChallenge.objects.filter(ip_key=ikey, created_at__gt=since)
    decision = rules.rate_limit(
        list(phone_times.values_list("created_at", flat=True)),
        list(ip_times.values_list("created_at", flat=True)),
        now,
    )
    client = find_client(institution, phone)
    client_id = str(client.id) if client else ""
    if not decision.allowed:
        with transaction.atomic():
            ledger.record(
                actor=anonymous(institution.id),
                action="portal.code.request",
                outcome=ledger.Outcome.DENIED,
                purpose=PURPOSE,
                client_id=client_id,
                detail={"reason": decision.reason},
            )
        return CodeRequest(RATE_LIMITED, reason=decision.reason, retry_after=decision.retry_after)
    code = rules.new_code()
    challenge_id = uuid.uuid4()
    with transaction.atomic():
        LoginChallenge.objects.create(
            id=challenge_id,
            institution=institution,
            client=client,
            phone_key=pkey,
            ip_key=ikey,
            code_hash=code_hash(challenge_id, code),
            created_at=now,
            expires_at=now + rules.CODE_TTL,
        )
        ledger.record(
            actor=anonymous(institution.id),
            action="portal.code.request",
            purpose=PURPOSE,
            client_id=client_id,
            resource_type="LoginChallenge",
            resource_id=str(challenge_id),
        )
        # Enqueued for every challenge: the task finds out whether there is anyone to tell.
        from careledger.portal.tasks import deliver_login_code

        ctx = current()
        transaction.on_commit(
            partial(
                _enqueue,
                deliver_login_code,
                str(challenge_id),
                seal_code(institution.id, challenge_id, code),
                ctx.request_id if ctx else "",
            )
        )
    return CodeRequest(SENT, challenge_id=challenge_id)


def do_record_malformed_request(*, institution_id: str | None) -> None:
    """A request whose number is not a mainland mobile number: no challenge, but ledgered."""
    with transaction.atomic():
        ledger.record(
            actor=anonymous(institution_id),
            action="portal.code.request",
            outcome=ledger.Outcome.DENIED,
            purpose=PURPOSE,
            detail={"reason": "malformed_number"},
        )


def _enqueue(task, *args: str) -> None:  # type: ignore[no-untyped-def]
    import structlog

    try:
        task.delay(*args)
    except Exception:  # the broker is down: the person can ask again in a minute
        structlog.get_logger("careledger.portal").exception("portal.code.enqueue_failed")


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str = ""  # "", "wrong_code", or a challenge state: expired, used, burnt, unknown
    tries_left: int = 0
    user: User | None = None


def _portal_user(client: Client) -> User:
    """The client's portal user, created on first sign-in (no password: the code is the factor)."""
    account = PortalAccount.objects.select_related("user").filter(client=client).first()
    if account is not None:
        return account.user
    try:
        with transaction.atomic():
            user = User(
                username=f"portal-{client.id.hex}",
                role=Role.CLIENT,
                institution_id=client.institution_id,
            )
            user.set_unusable_password()
            user.save()
            PortalAccount.objects.create(user=user, client=client)
            return user
    except IntegrityError:  # a concurrent first sign-in won the race
        return PortalAccount.objects.select_related("user").get(client=client).user


def _refuse(challenge: LoginChallenge, reason: str, tries_left: int = 0) -> Verification:
    ledger.record(
        actor=anonymous(challenge.institution_id),
        action="portal.login",
        outcome=ledger.Outcome.DENIED,
        purpose=PURPOSE,
        client_id=str(challenge.client_id or ""),
        resource_type="LoginChallenge",
        resource_id=str(challenge.id),
        detail={"reason": reason},
    )
    return Verification(False, reason, tries_left)


def do_verify_code(
    *, challenge_id: uuid.UUID, code: str, now: dt.datetime | None = None
) -> Verification:
    """Check a normalised six-digit code against its challenge; on success return the user to
    sign in (the caller logs them in, which rotates the session key)."""
    now = now or timezone.now()
    with transaction.atomic():
        challenge = LoginChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if challenge is None:
            return Verification(False, "unknown")
        state = challenge.state(now)
        if state != rules.OPEN:
            return _refuse(challenge, state)
        matches = constant_time_compare(code_hash(challenge.id, code), challenge.code_hash)
        if not matches or challenge.client_id is None:
            challenge.attempts, burnt = rules.after_wrong_try(challenge.attempts)
            challenge.burnt_at = now if burnt else None
            challenge.save(update_fields=["attempts", "burnt_at"])
            reason = rules.BURNT if burnt else "wrong_code"
            return _refuse(challenge, reason, rules.MAX_TRIES - challenge.attempts)
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
        client = Client.objects.get(pk=challenge.client_id)
        user = _portal_user(client)
        if not user.is_active or client.status != ClientStatus.ACTIVE:
            return _refuse(challenge, "account_disabled")
        ledger.record(
            actor=actor_of(user),
            action="portal.login",
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="LoginChallenge",
            resource_id=str(challenge.id),
        )
    return Verification(True, user=user)


def do_logout(*, user: User) -> None:
    account = PortalAccount.objects.filter(user=user).only("client_id").first()
    with transaction.atomic():
        ledger.record(
            actor=actor_of(user),
            action="portal.logout",
            purpose=PURPOSE,
            client_id=str(account.client_id) if account else "",
        )
