"""Every write to questionnaire definitions: import, create, edit a draft, new version, publish,
retire, and the built-in instruments. Institution configuration, no one's data.

Versions: a definition's rows share its canonical URL, one row per version number. Only a draft
is ever edited; a published version is immutable (`do_update_draft` refuses it, and its row is
sealed in the ledger so an edit behind the application's back is reported by `ledger verify`).
Editing a published questionnaire starts a new draft (`do_new_version`: the next number, a copy
of the latest version); publishing a draft retires the version published before it, so each URL
has at most one published version to start new responses from, while responses keep pointing at
the exact version they answered. At most one draft per URL (a database constraint too).

Authorisation: `permissions.CONFIGURE` (the institution admin); every write is ledgered
(`questionnaire.define`, with the op, code, version and status) and seals the row.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger
from careledger.questionnaires import definition, permissions
from careledger.questionnaires.definition import CODE_URL, DefinitionError
from careledger.questionnaires.models import FHIR_STATUS, Questionnaire, Status

PURPOSE = "administration"
INSTRUMENTS = Path(__file__).resolve().parent / "instruments"
BUILTIN = ("phq9", "gad7", "tcm_constitution", "intake")
URL_BASE = "https://careledger.example.org/fhir/Questionnaire"
_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")


def check_can_configure(actor: User) -> None:
    require(actor, permissions.CONFIGURE, purpose=PURPOSE)


@lru_cache(maxsize=8)
def builtin_resource(key: str) -> dict[str, Any]:
    """A built-in instrument's FHIR JSON as shipped (a fresh copy each call is the caller's job)."""
    return json.loads((INSTRUMENTS / f"{key}.json").read_text(encoding="utf-8"))


def _invalid(problems: list[str]) -> ValidationFailed:
    return ValidationFailed({"resource": problems})


def _code_of(data: Mapping[str, Any]) -> str:
    for ext in data.get("extension", ()):
        if ext.get("url") == CODE_URL and ext.get("valueCode"):
            return str(ext["valueCode"])
    name = re.sub(r"[^a-z0-9_]", "_", str(data.get("name", "")).lower()).strip("_")
    return name[:40] if _CODE.fullmatch(name[:40] or "") else ""


def _normalised(
    data: Mapping[str, Any], *, url: str, version: int, status: str, code: str
) -> dict[str, Any]:
    """The JSON as stored: this row's URL, version, status and code extension."""
    out = json.loads(json.dumps(data))  # a deep copy of plain JSON
    out["url"], out["version"], out["status"] = url, str(version), FHIR_STATUS[status]
    extensions = [e for e in out.get("extension", []) if e.get("url") != CODE_URL]
    out["extension"] = [{"url": CODE_URL, "valueCode": code}, *extensions]
    return out


def _checked(data: Mapping[str, Any]) -> definition.Definition:
    try:
        return definition.parse(data)
    except DefinitionError as exc:
        raise _invalid(exc.problems) from None


def _record(actor: ledger.Actor, row: Questionnaire, op: str, *also: Questionnaire) -> None:
    ledger.record(
        actor=actor,
        action=permissions.DEFINE,
        purpose=PURPOSE,
        resource_type="Questionnaire",
        resource_id=str(row.id),
        detail={"op": op, "code": row.code, "version": row.version, "status": row.status},
        sealed=[row, *also],
    )


def _next_version(institution_id: uuid.UUID, url: str) -> int:
    found = Questionnaire.objects.filter(institution_id=institution_id, url=url).aggregate(
        n=Max("version")
    )
    return (found["n"] or 0) + 1


def _refuse_second_draft(institution_id: uuid.UUID, url: str) -> None:
    if Questionnaire.objects.filter(
        institution_id=institution_id, url=url, status=Status.DRAFT
    ).exists():
        raise ValidationFailed(
            {"__all__": [_("This questionnaire already has a draft: edit that draft instead.")]}
        )


def _create(
    *,
    actor: ledger.Actor,
    user: User | None,
    institution_id: uuid.UUID,
    data: Mapping[str, Any],
    status: str,
    builtin: bool = False,
    op: str,
) -> Questionnaire:
    _checked(data)
    code = _code_of(data)
    url = str(data.get("url") or "") or f"urn:uuid:{uuid.uuid4()}"
    if not code:
        raise _invalid([_("Give the questionnaire a short code (letters, digits, _).")])
    with transaction.atomic():
        _refuse_second_draft(institution_id, url)
        version = _next_version(institution_id, url)
        resource = _normalised(data, url=url, version=version, status=status, code=code)
        now = timezone.now()
        row = Questionnaire.objects.create(
            institution_id=institution_id,
            code=code,
            url=url,
            version=version,
            status=status,
            title=str(resource.get("title") or resource.get("name") or code)[:200],
            builtin=builtin,
            resource=resource,
            created_by=user,
            published_at=now if status == Status.PUBLISHED else None,
        )
        _record(actor, row, op)
    return row


def do_import(*, actor: User, data: Mapping[str, Any]) -> Questionnaire:
    """A FHIR Questionnaire JSON as a new draft: version 1 of a new URL, or the next version
    of a URL the institution already has."""
    check_can_configure(actor)
    if not isinstance(data, Mapping):
        raise _invalid([_("The file is not a JSON object.")])
    return _create(
        actor=actor_of(actor),
        user=actor,
        institution_id=actor.institution_id,
        data=data,
        status=Status.DRAFT,
        op="import",
    )


def do_create(*, actor: User, title: str, code: str) -> Questionnaire:
    """A new, almost empty draft (one introductory display item) to build in the editor."""
    check_can_configure(actor)
    code = code.strip().lower()
    if not _CODE.fullmatch(code):
        raise ValidationFailed(
            {"code": [_("2–40 lower-case letters, digits or _, starting with a letter.")]}
        )
    title = title.strip()
    if not title:
        raise ValidationFailed({"title": [_("Give the questionnaire a title.")]})
    data = {
        "resourceType": "Questionnaire",
        "url": f"{URL_BASE}/{actor.institution_id}/{code}",
        "name": code,
        "title": title,
        "status": "draft",
        "extension": [{"url": CODE_URL, "valueCode": code}],
        "item": [{"linkId": "intro", "type": "display", "text": title}],
    }
    return _create(
        actor=actor_of(actor),
        user=actor,
        institution_id=actor.institution_id,
        data=data,
        status=Status.DRAFT,
        op="create",
    )


def _own(actor: User, questionnaire_id: uuid.UUID) -> Questionnaire:
    """The row under lock, if it is the actor's institution's (else DoesNotExist: 404)."""
    return Questionnaire.objects.select_for_update().get(
        pk=questionnaire_id, institution_id=actor.institution_id
    )


def do_update_draft(
    *, actor: User, questionnaire_id: uuid.UUID, resource: Mapping[str, Any]
) -> Questionnaire:
    """Replace a draft's definition. A published or retired version is never changed."""
    check_can_configure(actor)
    with transaction.atomic():
        row = _own(actor, questionnaire_id)
        if row.status != Status.DRAFT:
            raise ValidationFailed(
                {"__all__": [_("A published questionnaire cannot be changed: make a new version.")]}
            )
        data = _normalised(
            resource, url=row.url, version=row.version, status=row.status, code=row.code
        )
        _checked(data)
        row.resource = data
        row.title = str(data.get("title") or row.title)[:200]
        row.save()
        _record(actor_of(actor), row, "update")
    return row


def do_new_version(*, actor: User, questionnaire_id: uuid.UUID) -> Questionnaire:
    """A draft to edit, copied from this version (or the URL's existing draft, if any)."""
    check_can_configure(actor)
    with transaction.atomic():
        source = _own(actor, questionnaire_id)
        draft = Questionnaire.objects.filter(
            institution_id=source.institution_id, url=source.url, status=Status.DRAFT
        ).first()
        if draft is not None:
            return draft
        version = _next_version(source.institution_id, source.url)
        resource = _normalised(
            source.resource, url=source.url, version=version, status=Status.DRAFT, code=source.code
        )
        row = Questionnaire.objects.create(
            institution_id=source.institution_id,
            code=source.code,
            url=source.url,
            version=version,
            status=Status.DRAFT,
            title=source.title,
            builtin=False,
            resource=resource,
            created_by=actor,
        )
        _record(actor_of(actor), row, "new_version")
    return row


def _set_status(row: Questionnaire, status: str) -> None:
    row.status = status
    row.resource = _normalised(
        row.resource, url=row.url, version=row.version, status=status, code=row.code
    )
    now = timezone.now()
    if status == Status.PUBLISHED:
        row.published_at = now
    if status == Status.RETIRED:
        row.retired_at = now
    row.save()


def do_publish(*, actor: User, questionnaire_id: uuid.UUID) -> Questionnaire:
    """Publish a draft (from now on immutable); the version published before it is retired."""
    check_can_configure(actor)
    with transaction.atomic():
        row = _own(actor, questionnaire_id)
        if row.status != Status.DRAFT:
            raise ValidationFailed({"__all__": [_("Only a draft can be published.")]})
        _checked(row.resource)
        earlier = list(
            Questionnaire.objects.select_for_update().filter(
                institution_id=row.institution_id, url=row.url, status=Status.PUBLISHED
            )
        )
        for old in earlier:
            _set_status(old, Status.RETIRED)
        _set_status(row, Status.PUBLISHED)
        _record(actor_of(actor), row, "publish", *earlier)
    return row


def do_retire(*, actor: User, questionnaire_id: uuid.UUID) -> Questionnaire:
    """Retire a published version: no new responses; answered ones keep pointing at it."""
    check_can_configure(actor)
    with transaction.atomic():
        row = _own(actor, questionnaire_id)
        if row.status != Status.PUBLISHED:
            raise ValidationFailed({"__all__": [_("Only a published questionnaire is retired.")]})
        _set_status(row, Status.RETIRED)
        _record(actor_of(actor), row, "retire")
    return row


def ensure_builtin(*, institution_id: uuid.UUID) -> int:
    """Load the built-in instruments (PHQ-9, GAD-7, TCM constitution, intake form) for an
    institution, published, once: an instrument whose URL the institution already has (in any
    version or status, its own edits included) is left alone. Returns how many were added."""
    have = set(
        Questionnaire.objects.filter(institution_id=institution_id).values_list("url", flat=True)
    )
    added = 0
    system = ledger.Actor(id="system", role="system", institution_id=str(institution_id))
    for key in BUILTIN:
        data = builtin_resource(key)
        if data["url"] in have:
            continue
        try:
            _create(
                actor=system,
                user=None,
                institution_id=institution_id,
                data=data,
                status=Status.PUBLISHED,
                builtin=True,
                op="builtin",
            )
        except IntegrityError:  # another request loaded it at the same moment
            continue
        added += 1
    return added
