"""Authorised, ledgered FHIR reads for staff and partner institutions.

One function per interaction (read, search, $everything), each: find the client the request is
about, ask the one policy, read inside a transaction, validate every resource, ledger the read
with the number of resources sent, commit. Staff are asked for `fhir.read` under the care-team
rule (as the pages are); a partner is asked for `share.fetch`, and only after the grant that
covers this request has been found (`sharing.access.usable_grant`) and its client handed to the
policy as `shared`: no grant, no access, and the refusal names why (revoked, expired, used up,
category not granted, consent withdrawn, scope missing). A partner's read uses one use of the
grant, under the grant's row lock, and writes a `ShareFetch` beside the ledger entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from careledger.access.enforce import actor_of, refuse, require
from careledger.access.policy import Decision, deny
from careledger.access.roles import Action
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.fhirapi import gather
from careledger.fhirapi.params import Search
from careledger.fhirapi.validate import validate
from careledger.ledger import services as ledger
from careledger.sharing import access as share_access
from careledger.sharing import categories
from careledger.sharing.models import ShareFetch, ShareGrant
from careledger.sharing.principal import PartnerPrincipal

STAFF_PURPOSE = "care"
SHARE_PURPOSE = "share"
# $everything for staff: every type but the access log (AuditEvent has its own search).
EVERYTHING = tuple(t for t in gather.TYPES if t != "AuditEvent")


class NotFound(LookupError):
    """No such resource (or none this request may name): the API answers 404."""


@dataclass(frozen=True)
class Read:
    resources: list[dict[str, Any]]
    client_id: uuid.UUID
    grant_id: uuid.UUID | None = None
    emergency: bool = False


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def is_partner(principal: Any) -> bool:
    return isinstance(principal, PartnerPrincipal)


def _client(client_id: uuid.UUID) -> Client:
    client = Client.objects.select_related("institution").filter(pk=client_id).first()
    if client is None:
        raise NotFound(f"Patient/{client_id}")
    return client


def _partner_grant(
    principal: PartnerPrincipal, client: Client, types: Sequence[str]
) -> tuple[Decision, ShareGrant]:
    missing = [t for t in types if not categories.scope_allows(principal.scopes, t)]
    if missing:
        raise refuse(
            principal,  # type: ignore[arg-type]
            Action.SHARE_FETCH,
            deny("scope_missing"),
            client_id=str(client.id),
            purpose=SHARE_PURPOSE,
        )
    grant, reason = share_access.usable_grant(
        partner_id=principal.partner.id, client_id=client.id, types=types
    )
    if grant is None:
        raise refuse(
            principal,  # type: ignore[arg-type]
            Action.SHARE_FETCH,
            deny(reason),
            client_id=str(client.id),
            purpose=SHARE_PURPOSE,
        )
    decision = require(
        principal,  # type: ignore[arg-type]
        Action.SHARE_FETCH,
        client_scope(client),
        purpose=SHARE_PURPOSE,
        shared=frozenset({client.id}),
    )
    return decision, grant


def use_grant(principal: PartnerPrincipal, grant_id: uuid.UUID, types: Sequence[str]) -> ShareGrant:
    """Lock the grant, check it again under the lock, count one use (in the caller's
    transaction). Raises `_Refused` so the caller can roll back and ledger the refusal."""
    grant = ShareGrant.objects.select_for_update().get(pk=grant_id)
    reason = share_access.check_grant(grant, partner_id=principal.partner.id, types=types)
    if reason:
        raise _Refused(reason)
    grant.uses += 1
    grant.save(update_fields=["uses", "updated_at"])
    return grant


def record_fetch(
    *,
    principal: PartnerPrincipal,
    grant: ShareGrant,
    interaction: str,
    types: Sequence[str],
    count: int,
    resource_type: str,
    resource_id: str,
    bundle_sha256: str = "",
) -> ledger.LedgerEntry:
    """The ledger entry and index row of one partner fetch (in the caller's transaction)."""
    detail: dict[str, Any] = {
        "interaction": interaction,
        "grant": str(grant.id),
        "partner": str(principal.partner.id),
        "types": list(types),
        "resources": count,
        "use": grant.uses,
        "max_uses": grant.max_uses,
    }
    if bundle_sha256:
        detail["bundle_sha256"] = bundle_sha256
    entry = ledger.record(
        actor=actor_of(principal),  # type: ignore[arg-type]
        action=str(Action.SHARE_FETCH),
        purpose=SHARE_PURPOSE,
        client_id=str(grant.client_id),
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
        sealed=[grant],
    )
    ShareFetch.objects.create(
        grant=grant,
        client_id=grant.client_id,
        partner_id=principal.partner.id,
        seq=entry.seq,
        interaction=interaction,
        resource_types=list(types),
        resources=count,
        bundle_sha256=bundle_sha256,
        fetched_at=entry.recorded_at,
    )
    return entry


def _filter(found: list[dict[str, Any]], search: Search | None) -> list[dict[str, Any]]:
    if search is None:
        return found
    if search.ids:
        wanted = set(search.ids)
        found = [r for r in found if r.get("id") in wanted]
    if search.codes:
        codes = set(search.codes)
        found = [
            r for r in found if {c.get("code") for c in r.get("code", {}).get("coding", [])} & codes
        ]
    return found[: search.count]


def _window(search: Search | None, grant: ShareGrant | None) -> gather.Window:
    start = search.date_from if search else None
    end = search.date_to if search else None
    if grant is not None:
        if grant.data_from:
            start = max(start, grant.data_from) if start else grant.data_from
        if grant.data_to:
            end = min(end, grant.data_to) if end else grant.data_to
    return start, end


def _read(
    principal: Any,
    client_id: uuid.UUID,
    types: Sequence[str],
    *,
    interaction: str,
    search: Search | None = None,
    resource_id: str = "",
) -> Read:
    client = _client(client_id)
    if is_partner(principal):
        decision, grant = _partner_grant(principal, client, types)
        try:
            with transaction.atomic():
                grant = use_grant(principal, grant.id, types)
                found = _filter(gather.gather(client, types, _window(search, grant)), search)
                for resource in found:
                    validate(resource)
                record_fetch(
                    principal=principal,
                    grant=grant,
                    interaction=interaction,
                    types=types,
                    count=len(found),
                    resource_type=types[0] if len(types) == 1 else "Bundle",
                    resource_id=resource_id,
                )
        except _Refused as refused:
            raise refuse(
                principal,
                Action.SHARE_FETCH,
                deny(refused.reason),
                client_id=str(client.id),
                purpose=SHARE_PURPOSE,
            ) from None
        return Read(found, client.id, grant.id)
    decision = require(principal, Action.FHIR_READ, client_scope(client), purpose=STAFF_PURPOSE)
    with transaction.atomic():
        found = _filter(gather.gather(client, types, _window(search, None)), search)
        for resource in found:
            validate(resource)
        ledger.record(
            actor=actor_of(principal),
            action=str(Action.FHIR_READ),
            purpose=decision.purpose(STAFF_PURPOSE),
            client_id=str(client.id),
            resource_type=types[0] if len(types) == 1 else "Bundle",
            resource_id=resource_id,
            detail={"interaction": interaction, "types": list(types), "resources": len(found)},
        )
    return Read(found, client.id, emergency=decision.emergency)


def search(principal: Any, resource_type: str, query: Search) -> Read:
    client_id = query.patient
    if resource_type == "Patient":
        ids = set(query.ids)
        if len(ids) != 1:
            raise NotFound("search Patient by one _id")
        try:
            client_id = uuid.UUID(next(iter(ids)))
        except ValueError:
            raise NotFound("Patient") from None
    assert client_id is not None
    return _read(principal, client_id, [resource_type], interaction="search", search=query)


def _owner(resource_type: str, resource_id: str) -> uuid.UUID:
    """The client a resource belongs to, without reading its content."""
    from careledger.ledger.models import LedgerEntry

    if resource_type == "AuditEvent":
        seq = resource_id.removeprefix("ledger-")
        if not seq.isdigit():
            raise NotFound(resource_id)
        owner = LedgerEntry.objects.filter(seq=int(seq)).values_list("client_id", flat=True).first()
        try:
            return uuid.UUID(owner or "")
        except ValueError:
            raise NotFound(resource_id) from None
    try:
        rid = uuid.UUID(resource_id)
    except ValueError:
        raise NotFound(resource_id) from None
    if resource_type == "Patient":
        return rid
    model = _MODELS().get(resource_type)
    if model is None:
        raise NotFound(resource_id)
    owner_id = model.objects.filter(pk=rid).values_list("client_id", flat=True).first()
    if owner_id is None:
        raise NotFound(resource_id)
    return owner_id


def _MODELS() -> dict[str, Any]:
    from careledger.assessment.models import RiskAssessment
    from careledger.consent.models import Consent
    from careledger.observations.models import Observation, Report
    from careledger.questionnaires.models import QuestionnaireResponse
    from careledger.records.models import ConditionEntry

    return {
        "Observation": Observation,
        "DiagnosticReport": Report,
        "Condition": ConditionEntry,
        "QuestionnaireResponse": QuestionnaireResponse,
        "RiskAssessment": RiskAssessment,
        "Consent": Consent,
    }


def read(principal: Any, resource_type: str, resource_id: str) -> dict[str, Any]:
    client_id = _owner(resource_type, resource_id)
    found = _read(
        principal,
        client_id,
        [resource_type],
        interaction="read",
        search=Search(ids=(resource_id,)),
        resource_id=resource_id,
    ).resources
    if not found:
        raise NotFound(resource_id)
    return found[0]


def everything(principal: Any, client_id: uuid.UUID) -> Read:
    if is_partner(principal):
        client = _client(client_id)
        grant, _reason = share_access.usable_grant(
            partner_id=principal.partner.id, client_id=client.id, types=[]
        )
        granted = categories.types_of(grant.categories) if grant else ("Patient",)
        types = [t for t in granted if categories.scope_allows(principal.scopes, t)] or ["Patient"]
        return _read(principal, client_id, types, interaction="everything")
    return _read(principal, client_id, list(EVERYTHING), interaction="everything")
