"""Signed, expiring, single-use links to a questionnaire, sent to a client by SMS.

The token (48 characters, URL-safe base64, no padding) is 36 bytes: the link's id (16), its expiry
as Unix seconds (4) and the first 16 bytes of an HMAC-SHA256 over both, keyed by the server's
secret (`salted_hmac`, its own salt). So a token is checked before the database is asked: a
tampered one (any byte changed, truncated, another id spliced in) fails the HMAC and is refused
as such; an expired one is refused by its own date, then by the row's. The database keeps only
the SHA-256 of the token (`ResponseLink.token_hash`), compared in constant time: a copy of the
database opens nothing. The token reaches the delivery task sealed under the institution's
data key (broker queues outlive requests), as the portal's sign-in codes do.

The link may be opened as often as needed until the questionnaire is submitted (progress is
saved, the form resumed); submitting uses it up (`used_at`), as does expiry (`LINK_TTL`). Every
opening, allowed or refused (malformed, tampered, unknown, expired, used, client inactive), is
ledgered as `questionnaire.link.open` with the reason. The page lives under /portal/ (route
class PORTAL); signed-in staff never reach it (the portal boundary refuses them), a signed-in
portal client is sent to their own portal pages.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from careledger.access.enforce import actor_of
from careledger.accounts.models import User
from careledger.clients.models import Client, ClientStatus
from careledger.crypto import aead, keyring
from careledger.crypto.models import KeyScope
from careledger.ledger import services as ledger
from careledger.questionnaires import permissions, services
from careledger.questionnaires.models import (
    Channel,
    Questionnaire,
    ResponseLink,
    ResponseStatus,
    Status,
)

LINK_TTL = dt.timedelta(days=7)
PURPOSE = "self_report"
_SALT = "careledger.questionnaires.link"
MALFORMED, TAMPERED, UNKNOWN, EXPIRED, USED, INACTIVE, WITHDRAWN, OPEN = (
    "malformed",
    "tampered",
    "unknown",
    "expired",
    "used",
    "client_inactive",
    "withdrawn",  # the questionnaire was retired before the client began
    "open",
)


def _mac(payload: bytes) -> bytes:
    return salted_hmac(_SALT, payload, algorithm="sha256").digest()[:16]


def make_token(link_id: uuid.UUID, expires_at: dt.datetime) -> str:
    payload = link_id.bytes + struct.pack(">I", int(expires_at.timestamp()))
    return base64.urlsafe_b64encode(payload + _mac(payload)).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_token(token: str) -> tuple[str, uuid.UUID | None, dt.datetime | None]:
    """(state, link id, expiry) from the token alone: MALFORMED, TAMPERED or OPEN."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return MALFORMED, None, None
    if len(raw) != 36 or len(token) != 48:
        return MALFORMED, None, None
    payload, mac = raw[:20], raw[20:]
    if not hmac.compare_digest(mac, _mac(payload)):
        return TAMPERED, None, None
    expires = dt.datetime.fromtimestamp(struct.unpack(">I", payload[16:])[0], tz=dt.UTC)
    return OPEN, uuid.UUID(bytes=payload[:16]), expires


@dataclass(frozen=True)
class Opened:
    state: str
    link: ResponseLink | None = None

    @property
    def ok(self) -> bool:
        return self.state == OPEN


def _binding(link_id: uuid.UUID) -> aead.Binding:
    return aead.Binding("questionnaires_responselink", "token", str(link_id))


def seal_token(institution_id: uuid.UUID, link_id: uuid.UUID, token: str) -> str:
    key = keyring.current(KeyScope.INSTITUTION, institution_id)
    return aead.seal(key.material, key.id, token.encode(), _binding(link_id))


def open_token(link_id: uuid.UUID, sealed: str) -> str:
    key = keyring.by_id(aead.key_id_of(sealed))
    return aead.open_sealed(key, sealed, _binding(link_id)).decode()


def do_issue_link(
    *, actor: User, client_id: uuid.UUID, questionnaire_id: uuid.UUID, base_url: str
) -> ResponseLink:
    """Send the client a link to fill in a published questionnaire (those who may fill it in
    for them may send it). The SMS goes from a task after this transaction commits."""
    from careledger.questionnaires import tasks

    client = services.check_can_fill(actor=actor, client_id=client_id)
    questionnaire = services._published(client, questionnaire_id)
    now = timezone.now()
    link_id = uuid.uuid4()
    expires = now + LINK_TTL
    token = make_token(link_id, expires)
    with transaction.atomic():
        link = ResponseLink.objects.create(
            id=link_id,
            institution_id=client.institution_id,
            client=client,
            questionnaire=questionnaire,
            token_hash=token_hash(token),
            expires_at=expires,
            issued_by=actor,
        )
        ledger.record(
            actor=actor_of(actor),
            action=permissions.LINK_ISSUE,
            purpose=services.PURPOSE,
            client_id=str(client.id),
            resource_type="Questionnaire",
            resource_id=str(questionnaire.id),
            detail={"link": str(link.id), "questionnaire": questionnaire.code},
        )
        sealed = seal_token(client.institution_id, link.id, token)
        transaction.on_commit(
            lambda: tasks.send_questionnaire_link.delay(str(link_id), sealed, base_url.rstrip("/"))
        )
    return link


def _state(token: str, now: dt.datetime) -> Opened:
    state, link_id, expires = read_token(token)
    if state != OPEN:
        return Opened(state)
    link = ResponseLink.objects.select_related("client", "questionnaire").filter(pk=link_id).first()
    if link is None or not constant_time_compare(link.token_hash, token_hash(token)):
        return Opened(UNKNOWN)
    if expires is None or expires <= now or link.expires_at <= now:
        return Opened(EXPIRED, link)
    if link.used_at is not None:
        return Opened(USED, link)
    if link.client.status != ClientStatus.ACTIVE:
        return Opened(INACTIVE, link)
    if link.response_id is None and link.questionnaire.status != Status.PUBLISHED:
        # Not begun, and its version is no longer the one in use: the link asks the client to
        # fill in *this questionnaire*, so a newer published version of it (same canonical
        # URL) is started instead; if the questionnaire was retired altogether, say so.
        current = Questionnaire.objects.filter(
            institution_id=link.institution_id, url=link.questionnaire.url, status=Status.PUBLISHED
        ).first()
        if current is None:
            return Opened(WITHDRAWN, link)
        link.questionnaire = current
    return Opened(OPEN, link)


def _actor(user: Any, link: ResponseLink | None) -> ledger.Actor:
    if user is not None and getattr(user, "is_authenticated", False):
        return actor_of(user)
    institution = str(link.institution_id) if link else ""
    return ledger.Actor(id="anonymous", role="anonymous", institution_id=institution)


def open_link(token: str, *, user: Any = None, now: dt.datetime | None = None) -> Opened:
    """Check a link and ledger the opening; an open link gets its response (started on first
    opening, channel "link")."""
    opened = _state(token, now or timezone.now())
    link = opened.link
    client_id = str(link.client_id) if link else ""
    if not opened.ok:
        with transaction.atomic():
            ledger.record(
                actor=_actor(user, link),
                action=permissions.LINK_OPEN,
                outcome=ledger.Outcome.DENIED,
                purpose=PURPOSE,
                client_id=client_id,
                detail={"reason": opened.state, "link": str(link.id) if link else ""},
            )
        return opened
    assert link is not None
    with transaction.atomic():
        if link.response_id is None:
            response = services.start(
                ledger_actor=_actor(user, link),
                author=None,
                client=link.client,
                questionnaire_id=link.questionnaire.id,
                channel=Channel.LINK,
                purpose=PURPOSE,
            )
            ResponseLink.objects.filter(pk=link.pk).update(response=response)
            link.response = response
        ledger.record(
            actor=_actor(user, link),
            action=permissions.LINK_OPEN,
            purpose=PURPOSE,
            client_id=client_id,
            resource_type="QuestionnaireResponse",
            resource_id=str(link.response_id),
            detail={"link": str(link.id)},
        )
    return opened


def do_save_via_link(
    *, token: str, answers: Mapping[str, Any], submit: bool, user: Any = None
) -> tuple[Opened, services.Saved | None]:
    """Save or submit through a link (checked again, ledgered); a clean submission uses it up."""
    opened = open_link(token, user=user)
    if not opened.ok:
        return opened, None
    link = opened.link
    assert link is not None and link.response_id is not None
    with transaction.atomic():
        locked = ResponseLink.objects.select_for_update().get(pk=link.pk)
        if locked.used_at is not None:
            return Opened(USED, link), None
        saved = services.save_answers(
            ledger_actor=_actor(user, link),
            client=Client.objects.get(pk=link.client_id),
            response_id=link.response_id,
            raw=answers,
            submit=submit,
            purpose=PURPOSE,
        )
        if saved.status == ResponseStatus.COMPLETED:
            locked.used_at = timezone.now()
            locked.save(update_fields=["used_at"])
    return opened, saved
