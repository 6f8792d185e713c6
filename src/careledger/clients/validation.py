"""Turning what a person typed into a validated client record, with every problem named.

Collects all field errors at once (a form shows them together) as `{field: [message, …]}`.
Format rules live in the pure `careledger.clients.identifiers`; this module adds the rules that
tie fields together (the ID number's birth date and sex must agree with the stated ones).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careledger.clients import identifiers as ids
from careledger.clients.models import DocumentType, MembershipLevel, Relation, Sex

MAX_ADDRESS = 200


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class ClientInput:
    """What enrolment or an edit supplies. Strings as typed; the validator normalises them."""

    name: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    document_type: str = DocumentType.RESIDENT_ID
    document_number: str = ""
    phone: str = ""
    address: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""
    emergency_contact_relation: str = ""
    membership_level: str = MembershipLevel.STANDARD
    care_team_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class ValidClient:
    name: str
    sex: str
    birth_date: dt.date
    document_type: str
    document_number: str
    phone: str
    address: str
    emergency_contact_name: str
    emergency_contact_phone: str
    emergency_contact_relation: str
    membership_level: str
    care_team_ids: tuple[uuid.UUID, ...]

    def identity_snapshot(self) -> dict[str, str]:
        """The fields a revision keeps (sealed), as JSON-ready strings."""
        return {
            "name": self.name,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat(),
            "document_type": self.document_type,
            "document_number": self.document_number,
            "phone": self.phone,
            "address": self.address,
            "emergency_contact_name": self.emergency_contact_name,
            "emergency_contact_phone": self.emergency_contact_phone,
            "emergency_contact_relation": self.emergency_contact_relation,
        }


# The UI's wording of each identifier problem, by code (the pure module's English messages are
# the fallback). Parameters come from IdentifierError.params.
_MESSAGES = {
    "old_format": gettext_lazy(
        "15-digit ID numbers (before 1999) are not accepted; use the 18-digit number."
    ),
    "birth_date_invalid": gettext_lazy(
        "The birth date encoded in the ID number is not a valid date."
    ),
    "birth_date_future": gettext_lazy("The birth date encoded in the ID number is in the future."),
    "birth_date_too_early": gettext_lazy("The birth date encoded in the ID number is before 1900."),
    "checksum": gettext_lazy("The check digit is wrong (expected %(expected)s, got %(got)s)."),
    "birth_date_mismatch": gettext_lazy("Birth date does not match the ID number (%(expected)s)."),
    "sex_mismatch": gettext_lazy("Sex does not match the ID number."),
    "required": gettext_lazy("This field is required."),
    "not_mainland": gettext_lazy("Only mainland China (+86) mobile numbers are accepted."),
    "length": gettext_lazy("A mainland mobile number has 11 digits; this one has %(count)s."),
    "not_mobile": gettext_lazy("This is not a mainland mobile number."),
    "too_long": gettext_lazy("A name has at most %(limit)s characters; this one has %(count)s."),
    "characters": gettext_lazy("Character %(position)s (“%(char)s”) is not allowed in a name."),
}
_FORMAT_MESSAGES = {
    "document_number": gettext_lazy("This is not a valid number for the chosen document type."),
    "phone": gettext_lazy("This is not a valid mobile phone number."),
    "card_number": gettext_lazy("This is not a valid card number."),
}


def identifier_message(exc: ids.IdentifierError) -> str:
    if exc.code == "format":
        template = _FORMAT_MESSAGES.get(exc.field)
    elif exc.field == "card_number" and exc.code == "checksum":
        template = gettext_lazy("The card number's check digit is wrong.")
    else:
        template = _MESSAGES.get(exc.code)
    if template is None:
        return str(exc)
    try:
        return str(template) % exc.params if exc.params else str(template)
    except (KeyError, TypeError):
        return str(exc)


def _clean_free_text(value: str, limit: int, errors: list[str]) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        errors.append(_("must be at most %(limit)d characters") % {"limit": limit})
    if any(ord(ch) < 32 for ch in value):
        errors.append(_("contains control characters"))
    return value


def validate_client(data: ClientInput, *, today: dt.date | None = None) -> ValidClient:
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def guarded(name: str, func, *args):  # type: ignore[no-untyped-def]
        try:
            return func(*args)
        except ids.IdentifierError as exc:
            fail(exc.field or name, identifier_message(exc))
            return ""

    name = guarded("name", ids.normalise_name, data.name or "")
    if data.sex not in Sex.values:
        fail("sex", _("choose male or female"))
    birth_date = data.birth_date
    if birth_date is None:
        fail("birth_date", _("birth date is required"))
    elif birth_date > today:
        fail("birth_date", _("birth date is in the future"))
    elif birth_date.year < 1900:
        fail("birth_date", _("birth date is before 1900"))

    document_number = ""
    if data.document_type not in DocumentType.values:
        fail("document_type", _("unknown document type"))
    elif not (data.document_number or "").strip():
        fail("document_number", _("document number is required"))
    elif data.document_type == DocumentType.RESIDENT_ID:
        try:
            citizen = ids.parse_citizen_id(data.document_number, today=today)
            document_number = citizen.number
            for problem in ids.cross_check_citizen_id(
                citizen,
                birth_date=birth_date if "birth_date" not in errors else None,
                sex=data.sex if "sex" not in errors else None,
            ):
                fail(problem.field, identifier_message(problem))
        except ids.IdentifierError as exc:
            fail(exc.field or "document_number", identifier_message(exc))
    else:
        document_number = guarded(
            "document_number", ids.normalise_document, data.document_type, data.document_number
        )

    phone = guarded("phone", ids.normalise_mobile, data.phone or "")
    address_errors: list[str] = []
    address = _clean_free_text(data.address, MAX_ADDRESS, address_errors)
    for message in address_errors:
        fail("address", message)

    ec_name = ec_phone = ""
    if (data.emergency_contact_name or "").strip():
        try:
            ec_name = ids.normalise_name(data.emergency_contact_name, "emergency_contact_name")
        except ids.IdentifierError as exc:
            fail("emergency_contact_name", identifier_message(exc))
    if (data.emergency_contact_phone or "").strip():
        try:
            ec_phone = ids.normalise_mobile(data.emergency_contact_phone)
        except ids.IdentifierError as exc:
            fail("emergency_contact_phone", identifier_message(exc))
    relation = data.emergency_contact_relation or ""
    if relation and relation not in Relation.values:
        fail("emergency_contact_relation", _("unknown relation"))
    if (ec_name or ec_phone) and not relation:
        fail("emergency_contact_relation", _("say how the emergency contact is related"))
    if data.membership_level not in MembershipLevel.values:
        fail("membership_level", _("unknown membership level"))
    if not data.care_team_ids:
        fail("care_team_ids", _("assign the client to at least one care team"))

    if errors:
        raise ValidationFailed(errors)
    assert birth_date is not None
    return ValidClient(
        name=name,
        sex=data.sex,
        birth_date=birth_date,
        document_type=data.document_type,
        document_number=document_number,
        phone=phone,
        address=address,
        emergency_contact_name=ec_name,
        emergency_contact_phone=ec_phone,
        emergency_contact_relation=relation,
        membership_level=data.membership_level,
        care_team_ids=tuple(dict.fromkeys(data.care_team_ids)),
    )
