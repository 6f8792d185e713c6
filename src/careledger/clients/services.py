"""Every write to the client registry: enrolment (客户开卡) and edits.

`do_enrol_clients` is the one enrolment path (the form, the API, the demo seeder and imports
all use it): it validates each row, authorises it, refuses duplicates found through the blind
index (naming the existing card number), and writes the good rows in one transaction together
with their data keys, cards, care-team links, first revisions and ledger events. Bad rows come
back with their row number, field and reason; nothing good is lost because of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import AccessDenied, actor_of, require
from careledger.access.policy import ClientScope
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients import indexing
from careledger.clients.cards import allocate_card_numbers
from careledger.clients.models import (
    Client,
    ClientCareTeam,
    ClientRevision,
    MembershipCard,
)
from careledger.clients.validation import (
    ClientInput,
    ValidationFailed,
    ValidClient,
    validate_client,
)
from careledger.crypto import keyring
from careledger.crypto.models import DataKey, KeyScope
from careledger.institutions.models import CareTeam, Institution
from careledger.ledger import services as ledger

PURPOSE_ENROLMENT = "enrolment"
BULK_BATCH = 500


@dataclass(frozen=True)
class Enrolled:
    row: int
    client_id: uuid.UUID
    card_number: str


@dataclass(frozen=True)
class Rejected:
    row: int
    errors: dict[str, list[str]]


@dataclass
class EnrolmentResult:
    enrolled: list[Enrolled] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class _Indexed:
    row: int
    valid: ValidClient
    document_index: str
    phone_index: str
    name_index: str


def _index(institution_id: uuid.UUID, row: int, valid: ValidClient) -> _Indexed:
    return _Indexed(
        row=row,
        valid=valid,
        document_index=indexing.document_index(
            institution_id, valid.document_type, valid.document_number
        ),
        phone_index=indexing.phone_index(institution_id, valid.phone),
        name_index=indexing.name_index(institution_id, valid.name),
    )


def _active_card_numbers(client_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    cards = MembershipCard.objects.filter(client_id__in=client_ids, status="active")
    keyring.preload(cards, ["number"])
    return {card.client_id: card.number for card in cards}


def lock_registry(institution_id: uuid.UUID) -> None:
    """Serialise registry writes of one institution (row lock on the institution), so that the
    duplicate check and the insert that follows it cannot interleave with another desk's. The
    unique constraints on the blind indexes stay as the backstop."""
    Institution.objects.select_for_update().only("id").get(pk=institution_id)


def find_duplicates(
    institution_id: uuid.UUID,
    rows: Sequence[_Indexed],
    *,
    exclude_client: uuid.UUID | None = None,
) -> dict[int, dict[str, list[str]]]:
    """Rows whose document or phone is already enrolled, or repeats an earlier row of the batch."""
    doc_keys = {r.document_index for r in rows}
    phone_keys = {r.phone_index for r in rows}
    # Two equality-index lookups rather than one OR, which a planner may turn into a scan.
    registry = Client.objects.filter(institution_id=institution_id)
    if exclude_client:
        registry = registry.exclude(pk=exclude_client)
    by_doc: dict[str, uuid.UUID] = dict(
        registry.filter(document_index__in=doc_keys).values_list("document_index", "id")
    )
    by_phone: dict[str, uuid.UUID] = dict(
        registry.filter(phone_index__in=phone_keys).values_list("phone_index", "id")
    )
    existing = by_doc or by_phone
    cards = _active_card_numbers(set(by_doc.values()) | set(by_phone.values())) if existing else {}
    errors: dict[int, dict[str, list[str]]] = {}
    seen_doc: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    for r in rows:
        problems: dict[str, list[str]] = {}
        if r.document_index in by_doc:
            card = cards.get(by_doc[r.document_index], "?")
            problems["document_number"] = [
                _("A client with this document number is already enrolled (card No. %(card)s).")
                % {"card": card}
            ]
        elif r.document_index in seen_doc:
            problems["document_number"] = [
                _("Same document number as row %(row)d of this batch.")
                % {"row": seen_doc[r.document_index]}
            ]
        if r.phone_index in by_phone:
            card = cards.get(by_phone[r.phone_index], "?")
            problems["phone"] = [
                _("A client with this phone number is already enrolled (card No. %(card)s).")
                % {"card": card}
            ]
        elif r.phone_index in seen_phone:
            problems["phone"] = [
                _("Same phone number as row %(row)d of this batch.")
                % {"row": seen_phone[r.phone_index]}
            ]
        seen_doc.setdefault(r.document_index, r.row)
        seen_phone.setdefault(r.phone_index, r.row)
        if problems:
            errors[r.row] = problems
    return errors


def _check_teams(
    actor: User, team_ids: Sequence[uuid.UUID], teams: dict[uuid.UUID, CareTeam]
) -> dict[str, list[str]] | None:
    unknown = [t for t in team_ids if t not in teams]
    if unknown:
        return {"care_team_ids": [_("Unknown or inactive care team.")]}
    try:
        require(
            actor,
            Action.CLIENT_ENROL,
            ClientScope(None, actor.institution_id, frozenset(team_ids)),
            purpose=PURPOSE_ENROLMENT,
        )
    except AccessDenied:
        return {"care_team_ids": [_("You can only enrol clients into your own care teams.")]}
    return None


def do_enrol_clients(*, actor: User, inputs: Sequence[ClientInput]) -> EnrolmentResult:
    """Enrol many clients (row numbers start at 1). Raises AccessDenied if the actor's role may
    not enrol at all; otherwise every row is either enrolled or rejected with its reasons."""
    require(actor, Action.CLIENT_ENROL, purpose=PURPOSE_ENROLMENT)
    institution_id = actor.institution_id
    teams = {
        t.id: t for t in CareTeam.objects.filter(institution_id=institution_id, is_active=True)
    }
    result = EnrolmentResult()
    indexed: list[_Indexed] = []
    team_checks: dict[tuple[uuid.UUID, ...], dict[str, list[str]] | None] = {}
    for row, data in enumerate(inputs, start=1):
        try:
            valid = validate_client(data)
        except ValidationFailed as exc:
            result.rejected.append(Rejected(row, exc.errors))
            continue
        key = tuple(sorted(valid.care_team_ids))
        if key not in team_checks:
            team_checks[key] = _check_teams(actor, key, teams)
        if team_checks[key]:
            result.rejected.append(Rejected(row, team_checks[key] or {}))
            continue
        indexed.append(_index(institution_id, row, valid))
    for start in range(0, len(indexed), BULK_BATCH):
        chunk = indexed[start : start + BULK_BATCH]
        with transaction.atomic():
            lock_registry(institution_id)
            duplicates = find_duplicates(institution_id, chunk)
            good = [r for r in chunk if r.row not in duplicates]
            result.rejected.extend(Rejected(row, errs) for row, errs in duplicates.items())
            result.enrolled.extend(_write_new_clients(actor, good))
    result.rejected.sort(key=lambda r: r.row)
    return result


def _write_new_clients(actor: User, rows: Sequence[_Indexed]) -> list[Enrolled]:
    if not rows:
        return []
    now = timezone.now()
    institution_id = actor.institution_id
    numbers = allocate_card_numbers(institution_id, len(rows))
    keys, clients, links, cards, revisions = [], [], [], [], []
    for r, number in zip(rows, numbers, strict=True):
        v = r.valid
        client = Client(
            institution_id=institution_id,
            name=v.name,
            name_index=r.name_index,
            sex=v.sex,
            birth_date=v.birth_date,
            document_type=v.document_type,
            document_number=v.document_number,
            document_index=r.document_index,
            phone=v.phone,
            phone_index=r.phone_index,
            address=v.address,
            emergency_contact_name=v.emergency_contact_name,
            emergency_contact_phone=v.emergency_contact_phone,
            emergency_contact_relation=v.emergency_contact_relation,
            enrolled_by=actor,
            created_at=now,
            updated_at=now,
        )
        key_row, material = keyring.new_data_key(KeyScope.CLIENT, client.id)
        keyring.remember(key_row, material)
        keys.append(key_row)
        clients.append(client)
        links.extend(
            ClientCareTeam(client=client, care_team_id=t, assigned_by=actor, assigned_at=now)
            for t in v.care_team_ids
        )
        cards.append(
            MembershipCard(
                institution_id=institution_id,
                client=client,
                number=number,
                number_index=indexing.card_index(institution_id, number),
                level=v.membership_level,
                issued_at=now,
                issued_by=actor,
            )
        )
        revisions.append(
            ClientRevision(
                institution_id=institution_id,
                client=client,
                version=1,
                changed_fields=sorted(v.identity_snapshot()),
                snapshot=json.dumps(v.identity_snapshot(), ensure_ascii=False, sort_keys=True),
                changed_by=actor,
                changed_at=now,
            )
        )
    DataKey.objects.bulk_create(keys)
    Client.objects.bulk_create(clients)
    ClientCareTeam.objects.bulk_create(links)
    MembershipCard.objects.bulk_create(cards)
    ClientRevision.objects.bulk_create(revisions)
    ledger.record_many(
        actor=actor_of(actor),
        action=str(Action.CLIENT_ENROL),
        client_ids=[str(c.id) for c in clients],
        purpose=PURPOSE_ENROLMENT,
        resource_type="Client",
        details=[{"version": 1}] * len(clients),
        sealed=[[c] for c in clients],
    )
    return [
        Enrolled(r.row, c.id, number) for r, c, number in zip(rows, clients, numbers, strict=True)
    ]


def do_enrol_client(*, actor: User, data: ClientInput) -> Enrolled:
    """Enrol one client; raises ValidationFailed with field errors if it cannot be enrolled."""
    result = do_enrol_clients(actor=actor, inputs=[data])
    if result.rejected:
        raise ValidationFailed(result.rejected[0].errors)
    return result.enrolled[0]


def client_scope(client: Client) -> ClientScope:
    return ClientScope(
        client.id,
        client.institution_id,
        frozenset(client.care_team_links.values_list("care_team_id", flat=True)),
        status=client.status,
    )


def current_input(client: Client) -> ClientInput:
    """The client's present values as an edit form's starting point (caller is authorised)."""
    card = client.cards.filter(status="active").first()
    return ClientInput(
        name=client.name,
        sex=client.sex,
        birth_date=client.birth_date,
        document_type=client.document_type,
        document_number=client.document_number,
        phone=client.phone,
        address=client.address,
        emergency_contact_name=client.emergency_contact_name,
        emergency_contact_phone=client.emergency_contact_phone,
        emergency_contact_relation=client.emergency_contact_relation,
        membership_level=card.level if card else "standard",
        care_team_ids=list(client.care_team_links.values_list("care_team_id", flat=True)),
    )


_IDENTITY_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "document_type",
    "document_number",
    "phone",
    "address",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relation",
)


def do_update_client(
    *, actor: User, client_id: uuid.UUID, data: ClientInput, reason: str = ""
) -> Client:
    """Edit a client's registry entry, keeping the previous version as a sealed revision."""
    client = Client.objects.get(pk=client_id)
    require(actor, Action.CLIENT_UPDATE, client_scope(client), purpose="registry_update")
    valid = validate_client(data)
    teams = {
        t.id: t
        for t in CareTeam.objects.filter(institution_id=client.institution_id, is_active=True)
    }
    team_errors = _check_teams(actor, valid.care_team_ids, teams)
    if team_errors:
        raise ValidationFailed(team_errors)
    institution_id = client.institution_id
    indexed = _index(institution_id, 1, valid)
    with transaction.atomic():
        lock_registry(institution_id)
        client = Client.objects.select_for_update().get(pk=client_id)
        duplicates = find_duplicates(institution_id, [indexed], exclude_client=client.id)
        if duplicates:
            raise ValidationFailed(duplicates[1])
        before = {name: getattr(client, name) for name in _IDENTITY_FIELDS}
        after = valid.identity_snapshot()
        changed = [
            name
            for name in _IDENTITY_FIELDS
            if (before[name].isoformat() if name == "birth_date" else before[name]) != after[name]
        ]
        old_teams = set(client.care_team_links.values_list("care_team_id", flat=True))
        new_teams = set(valid.care_team_ids)
        if old_teams != new_teams:
            changed.append("care_teams")
        card = client.cards.select_for_update().filter(status="active").first()
        if card and card.level != valid.membership_level:
            changed.append("membership_level")
            card.level = valid.membership_level
            card.save(update_fields=["level", "updated_at"])
        if not changed:
            return client
        for name in _IDENTITY_FIELDS:
            setattr(client, name, getattr(valid, name))
        client.name_index = indexed.name_index
        client.document_index = indexed.document_index
        client.phone_index = indexed.phone_index
        client.version += 1
        client.save()
        ClientCareTeam.objects.filter(
            client=client, care_team_id__in=old_teams - new_teams
        ).delete()
        ClientCareTeam.objects.bulk_create(
            ClientCareTeam(client=client, care_team_id=t, assigned_by=actor)
            for t in new_teams - old_teams
        )
        ClientRevision.objects.create(
            institution_id=institution_id,
            client=client,
            version=client.version,
            changed_fields=sorted(changed),
            snapshot=json.dumps(after, ensure_ascii=False, sort_keys=True),
            reason=" ".join(reason.split())[:500],
            changed_by=actor,
            changed_at=timezone.now(),
        )
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.CLIENT_UPDATE),
            purpose="registry_update",
            client_id=str(client.id),
            resource_type="Client",
            resource_id=str(client.id),
            detail={"version": client.version, "fields": sorted(changed)},
            sealed=[client],
        )
    return client
