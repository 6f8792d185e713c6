"""Every write of risk assessments: a clinician's run for one client, re-assessment after new
data, and the nightly run for a whole institution — one path (`_run`) for all three.

The path: gather the facts of the clients (`inputs.gather`, a fixed number of queries), lay the
clinician-supplied facts over them, evaluate every model (`evaluate`), and keep only the
evaluations whose basis differs from the client's current one for that model. Those are written
in batches, each batch one transaction: the previous current rows are marked superseded, the new
rows inserted, and one ledger event per client seals both (so `ledger verify` catches an edit
made behind the application's back, and a superseded row is never silently rewritten).

Automatic runs act as the system (`ledger.SYSTEM`); a clinician's run needs `risk.assess` on the
client (care team: health manager or doctor; never under break-glass).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.assessment import evaluate as ev
from careledger.assessment.inputs import FACTS, Source, gather
from careledger.assessment.models import Outcome, RiskAssessment, SuppliedFact, Trigger
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.institutions.models import Institution
from careledger.ledger import services as ledger

PURPOSE = "care"
BATCH_CLIENTS = 2000
# Facts a clinician may give or correct: what the record cannot say or only approximates.
# Results (observations) are never overridden by hand; they come from the laboratory.
SUPPLIABLE = {
    name: spec
    for name, spec in FACTS.items()
    if spec.source in {Source.RECORD, Source.DERIVED, Source.CLINICIAN}
}
CHOICES = {"family_diabetes": ("none", "second", "first")}


@dataclass(frozen=True)
class RunSummary:
    clients: int
    evaluated: int
    written: int  # new assessments (the rest were unchanged)
    models: int = len(ev.MODELS)
    seconds_facts: float = 0.0  # gathering the facts frame
    seconds_evaluate: float = 0.0  # bases, models and rows to write
    seconds_write: float = 0.0  # transactions: supersede, insert, ledger


def check_can_assess(*, actor: User, client_id: uuid.UUID) -> Client:
    client = Client.objects.get(pk=client_id)
    require(actor, Action.RISK_ASSESS, client_scope(client), purpose=PURPOSE)
    return client


def _decimal(value: float | None, places: int) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.{places}f}")


def _as_stored(value: Any) -> Any:
    """JSON as the database gives it back: PostgreSQL's jsonb has no negative zero (a term
    like −1.534 × 0 is stored as 0), so the row's digest must not see one either. Most values
    hold none: one C-level dump finds out before the walk (a first run stores 1.3 million)."""
    if b"-0.0" not in orjson.dumps(value, default=str):
        return value
    return _zeroed(value)


def _zeroed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _zeroed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_zeroed(v) for v in value]
    if isinstance(value, float) and value == 0:
        return 0.0
    return value


# Where each fact comes from and its code, as the page shows them beside the inputs.
_SOURCES = {name: str(spec.source) for name, spec in FACTS.items()}
_CODES = {name: spec.code for name, spec in FACTS.items() if spec.code}


def _row(
    institution_id: uuid.UUID,
    client_id: str,
    item: ev.Evaluation,
    facts: Mapping[str, Any],
    supplied: set[str],
    trigger: str,
    actor: User | None,
    now: Any,
) -> RiskAssessment:
    result = item.result
    data = result.to_dict()
    assessed = result.applicable
    return RiskAssessment(
        institution_id=institution_id,
        client_id=client_id,
        model_id=item.model.id,
        model_version=item.model.version,
        outcome=Outcome.ASSESSED if assessed else Outcome.NOT_APPLICABLE,
        value=_decimal(data.get("value"), 4) if assessed else None,
        unit=(data.get("unit") or "") if assessed else "",
        probability=_decimal(data.get("probability"), 6) if assessed else None,
        level=data.get("level", "") if assessed else "",
        inputs=_as_stored(
            ev.provenance(item.model, item.inputs, facts, _SOURCES, _CODES, supplied)
        ),
        result=_as_stored(
            {"details": data["details"], "level_zh": data["level_zh"], "level_en": data["level_en"]}
            if assessed
            else {"reasons": data["reasons"]}
        ),
        basis=item.basis,
        is_current=True,
        trigger=trigger,
        assessed_by=actor,
        assessed_at=now,
    )


def _supplied(client_ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    rows = SuppliedFact.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "name", "value"
    )
    for client_id, name, value in rows:
        found.setdefault(str(client_id), {})[name] = value
    return found


def _write_batch(
    rows_by_client: dict[str, list[RiskAssessment]], actor: User | None, trigger: str
) -> None:
    with transaction.atomic():
        keys = [(cid, row.model_id) for cid, rows in rows_by_client.items() for row in rows]
        superseded = list(
            RiskAssessment.objects.select_for_update().filter(
                client_id__in=list(rows_by_client),
                is_current=True,
                model_id__in=sorted({m for _c, m in keys}),
            )
        )
        wanted = set(keys)
        superseded = [r for r in superseded if (str(r.client_id), r.model_id) in wanted]
        for row in superseded:
            row.is_current = False
        RiskAssessment.objects.bulk_update(superseded, ["is_current"], batch_size=500)
        new_rows = [row for rows in rows_by_client.values() for row in rows]
        RiskAssessment.objects.bulk_create(new_rows, batch_size=500)
        old_by_client: dict[str, list[RiskAssessment]] = {}
        for row in superseded:
            old_by_client.setdefault(str(row.client_id), []).append(row)
        client_ids = list(rows_by_client)
        ledger.record_many(
            actor=actor_of(actor) if actor else ledger.SYSTEM,
            action=str(Action.RISK_ASSESS),
            purpose=PURPOSE,
            client_ids=client_ids,
            resource_type="RiskAssessment",
            details=[
                {"trigger": trigger, "models": sorted(r.model_id for r in rows_by_client[c])}
                for c in client_ids
            ],
            sealed=[[*rows_by_client[c], *old_by_client.get(c, [])] for c in client_ids],
        )


def _run(
    *,
    institution: Institution,
    client_ids: Sequence[uuid.UUID | str] | None,
    trigger: str,
    actor: User | None = None,
) -> RunSummary:
    now = timezone.now()
    started = time.perf_counter()
    frame = gather(institution=institution, client_ids=client_ids, today=timezone.localdate(now))
    ids = frame.get_column("client_id").to_list()
    current = _current_bases(institution.id, None if client_ids is None else ids)
    supplied = _supplied(ids) if client_ids is not None else _supplied_all(institution.id)
    seconds_facts = time.perf_counter() - started
    started = time.perf_counter()
    seconds_write = 0.0
    evaluated = written = 0
    batch: dict[str, list[RiskAssessment]] = {}
    for facts in frame.iter_rows(named=True):
        cid = facts["client_id"]
        given = supplied.get(cid, {})
        if given:
            facts.update(given)
        evaluated += len(ev.MODELS)
        for item in ev.changed(facts, current.get(cid, {})):
            row = _row(institution.id, cid, item, facts, set(given), trigger, actor, now)
            batch.setdefault(cid, []).append(row)
            written += 1
        if len(batch) >= BATCH_CLIENTS:
            t0 = time.perf_counter()
            _write_batch(batch, actor, trigger)
            seconds_write += time.perf_counter() - t0
            batch = {}
    if batch:
        t0 = time.perf_counter()
        _write_batch(batch, actor, trigger)
        seconds_write += time.perf_counter() - t0
    return RunSummary(
        clients=len(ids),
        evaluated=evaluated,
        written=written,
        seconds_facts=seconds_facts,
        seconds_evaluate=time.perf_counter() - started - seconds_write,
        seconds_write=seconds_write,
    )


def _current_bases(
    institution_id: uuid.UUID, client_ids: list[str] | None
) -> dict[str, dict[str, str]]:
    """{client id: {model id: basis}} of the current assessments: plain rows (no model
    instances, no UUID objects), since a population run reads 1.3 million of them."""
    table = RiskAssessment._meta.db_table
    pk = RiskAssessment._meta.get_field("client").target_field
    current = "is_current" if connection.vendor == "postgresql" else "is_current = 1"
    client = "client_id::text" if connection.vendor == "postgresql" else "client_id"
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if client_ids is None:
            scopes = [("institution_id = %s", [pk.get_db_prep_value(institution_id, connection)])]
        else:
            db_ids = [pk.get_db_prep_value(uuid.UUID(c), connection) for c in client_ids]
            scopes = [
                (f"client_id IN ({', '.join(['%s'] * len(chunk))})", chunk)
                for chunk in (db_ids[i : i + 500] for i in range(0, len(db_ids), 500))
            ]
        for scope, params in scopes:
            cursor.execute(
                f"SELECT {client}, model_id, basis FROM {table} WHERE {scope} AND {current}",  # noqa: S608
                params,
            )
            rows.extend(cursor.fetchall())
    found: dict[str, dict[str, str]] = {}
    if connection.vendor != "postgresql":  # SQLite keeps a UUID as 32 hex digits
        rows = [(str(uuid.UUID(c)), m, b) for c, m, b in rows]
    for c, m, b in rows:
        found.setdefault(c, {})[m] = b
    return found


def _supplied_all(institution_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    rows = SuppliedFact.objects.filter(institution_id=institution_id).values_list(
        "client_id", "name", "value"
    )
    for client_id, name, value in rows.iterator(chunk_size=10000):
        found.setdefault(str(client_id), {})[name] = value
    return found


def do_assess_client(*, actor: User, client_id: uuid.UUID) -> RunSummary:
    """A clinician's run of every model for one client (the 重新评估 button)."""
    client = check_can_assess(actor=actor, client_id=client_id)
    return _run(
        institution=client.institution,
        client_ids=[client.id],
        trigger=Trigger.MANUAL,
        actor=actor,
    )


def reassess_clients(*, institution_id: uuid.UUID | str, client_ids: Sequence[str]) -> RunSummary:
    """After new results or record changes (a background task, acting as the system)."""
    institution = Institution.objects.get(pk=institution_id)
    return _run(institution=institution, client_ids=client_ids, trigger=Trigger.DATA_CHANGE)


def assess_institution(*, institution_id: uuid.UUID | str) -> RunSummary:
    """The nightly run for every client of an institution (idempotent)."""
    institution = Institution.objects.get(pk=institution_id)
    return _run(institution=institution, client_ids=None, trigger=Trigger.POPULATION)


def clean_supplied(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a clinician's facts: known names only; true/false, a listed choice, or None
    (withdraw what was given). ValidationFailed names each bad field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SUPPLIABLE:
            errors[name] = [_("This fact cannot be given by hand.")]
        elif value is None or value == "":
            clean[name] = None
        elif name in CHOICES:
            if value not in CHOICES[name]:
                errors[name] = [_("Choose one of: %(c)s.") % {"c": ", ".join(CHOICES[name])}]
            else:
                clean[name] = value
        elif isinstance(value, bool):
            clean[name] = value
        else:
            errors[name] = [_("Answer yes or no.")]
    if errors:
        raise ValidationFailed(errors)
    return clean


def do_supply_facts(*, actor: User, client_id: uuid.UUID, data: Mapping[str, Any]) -> RunSummary:
    """Record what the clinician gave (or withdrew), then assess again with it."""
    client = check_can_assess(actor=actor, client_id=client_id)
    clean = clean_supplied(data)
    now = timezone.now()
    with transaction.atomic():
        Client.objects.select_for_update().only("id").get(pk=client.id)
        written: list[SuppliedFact] = []
        removed: list[SuppliedFact] = []
        existing = {f.name: f for f in SuppliedFact.objects.filter(client=client)}
        for name, value in clean.items():
            row = existing.get(name)
            if value is None:
                if row is not None:
                    removed.append(row)
                continue
            if row is None:
                row = SuppliedFact(institution_id=client.institution_id, client=client, name=name)
            elif row.value == value:
                continue
            row.value, row.set_by, row.set_at = value, actor, now
            row.save()
            written.append(row)
        ledger.record(
            actor=actor_of(actor),
            action="risk.facts.update",
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="RiskAssessment",
            detail={
                "set": sorted(r.name for r in written),
                "withdrawn": sorted(r.name for r in removed),
            },
            sealed=written,
            deleted=removed,
        )
        for row in removed:
            row.delete()
    return do_assess_client(actor=actor, client_id=client.id)
