"""Which client a report is about: by resident ID number or card number, through the blind
indexes, within the importing institution only.

A report is matched when its ID number or card number finds exactly one client. It is
*ambiguous* when the ID number and the card number find two different clients, or when the file
names the person and the name differs from the matched client's (a mistyped ID number must not
file one person's results under another's). It is *unmatched* when nothing is found. The name is
compared through its blind index too; no plaintext leaves the database for matching.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from careledger.clients import identifiers as ids
from careledger.clients import indexing
from careledger.clients.models import Client, MembershipCard
from careledger.exams.parsers.types import ParsedReport, Reason


@dataclass(frozen=True)
class Match:
    client_id: uuid.UUID | None
    sex: str = ""
    birth_date: dt.date | None = None
    reason: Reason | None = None
    field: str = ""
    message: str = ""


@dataclass(frozen=True)
class _Keys:
    document: str = ""
    card: str = ""
    name: str = ""
    problem: Match | None = None


def _keys(institution_id: uuid.UUID, report: ParsedReport) -> _Keys:
    patient = report.patient
    document = card = name = ""
    if patient.id_number.strip():
        try:
            number = ids.normalise_document("resident_id", patient.id_number)
        except ids.IdentifierError as exc:
            return _Keys(
                problem=Match(
                    None, reason=Reason.BAD_PATIENT_ID, field="id_number", message=str(exc)
                )
            )
        document = indexing.document_index(institution_id, "resident_id", number)
    if patient.card_number.strip():
        try:
            card = indexing.card_index(
                institution_id, ids.normalise_card_number(patient.card_number)
            )
        except ids.IdentifierError as exc:
            if not document:
                return _Keys(
                    problem=Match(
                        None, reason=Reason.BAD_PATIENT_ID, field="card_number", message=str(exc)
                    )
                )
    if not document and not card:
        return _Keys(
            problem=Match(
                None,
                reason=Reason.NO_PATIENT_ID,
                field="id_number",
                message="the report carries neither an ID number nor a card number",
            )
        )
    if patient.name.strip():
        try:
            name = indexing.name_index(institution_id, ids.normalise_name(patient.name))
        except ids.IdentifierError:
            name = ""
    return _Keys(document, card, name)


def match_clients(institution_id: uuid.UUID, reports: list[ParsedReport]) -> list[Match]:
    """One `Match` per report, in order, with two queries for the whole batch."""
    keys = [_keys(institution_id, r) for r in reports]
    documents = {k.document for k in keys if k.document}
    cards = {k.card for k in keys if k.card}
    registry = Client.objects.filter(institution_id=institution_id)
    by_document = {
        row[0]: row[1:]
        for row in registry.filter(document_index__in=documents).values_list(
            "document_index", "id", "sex", "birth_date", "name_index"
        )
    }
    card_owner = dict(
        MembershipCard.objects.filter(
            institution_id=institution_id, number_index__in=cards
        ).values_list("number_index", "client_id")
    )
    missing = set(card_owner.values()) - {v[0] for v in by_document.values()}
    by_id = {
        row[0]: row
        for row in registry.filter(pk__in=missing).values_list(
            "id", "sex", "birth_date", "name_index"
        )
    }
    by_id.update({v[0]: v for v in by_document.values()})
    return [_decide(k, by_document, card_owner, by_id) for k in keys]


def _decide(
    k: _Keys,
    by_document: dict[str, tuple],
    card_owner: dict[str, uuid.UUID],
    by_id: dict[uuid.UUID, tuple],
) -> Match:
    if k.problem is not None:
        return k.problem
    via_document = by_document[k.document][0] if k.document in by_document else None
    via_card = card_owner.get(k.card) if k.card else None
    if via_document and via_card and via_document != via_card:
        return Match(
            None,
            reason=Reason.AMBIGUOUS_CLIENT,
            field="card_number",
            message="the ID number and the card number belong to two different clients",
        )
    client_id = via_document or via_card
    if client_id is None:
        return Match(
            None,
            reason=Reason.UNMATCHED_CLIENT,
            field="id_number" if k.document else "card_number",
            message="no client of this institution has this ID number or card number",
        )
    _id, sex, birth_date, name_index = by_id[client_id]
    if k.name and k.name != name_index:
        return Match(
            None,
            reason=Reason.AMBIGUOUS_CLIENT,
            field="name",
            message="the name in the file differs from the name of the client with this "
            "ID number or card number",
        )
    return Match(client_id, sex=sex, birth_date=birth_date)
