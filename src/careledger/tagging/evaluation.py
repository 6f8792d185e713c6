"""Re-evaluating the published rules for clients, and writing what changed.

`reevaluate(institution_id=..., client_ids=None)` is the one path (the tasks call it after a data
change and nightly for everyone). It is idempotent: it compares the tags the rules give now with
those clients carry and writes only the differences — a `TagEvent` per change (with the rule
version and the facts that fired it, or that no longer do), the `ClientTag` state, and one
ledger event per changed client sealing both rows. Run it twice and the second run writes
nothing.

Concurrency: changes are written in batches; each batch locks its clients' rows (ordered, as
records does for one client) and re-reads their current tags under the lock before writing, so
two evaluations of the same client (an import and the nightly run) cannot both apply a tag.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from careledger.clients.models import Client
from careledger.ledger import services as ledger
from careledger.observations.population import uuid_text
from careledger.tagging import evaluate, facts, permissions, vocabulary
from careledger.tagging.models import ClientTag, Op, RuleStatus, Source, TagEvent, TagRule, Why
from careledger.tagging.rules import CompiledRule, Fact, RuleError, compile_rule

log = logging.getLogger(__name__)
BATCH = 1000
_compiled: dict[uuid.UUID, CompiledRule] = {}


@dataclass
class Outcome:
    clients: int = 0
    applied: int = 0
    removed: int = 0
    rules: int = 0
    seconds_facts: float = 0.0
    seconds_rules: float = 0.0
    seconds_write: float = 0.0
    skipped_rules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RuleRef:
    """A published rule as the evaluator needs it (no model instance per run)."""

    id: uuid.UUID
    tag_id: uuid.UUID
    version: int
    expression: str


def compiled(rule: TagRule | RuleRef) -> CompiledRule:
    """A published rule's compiled form (cached: a published version never changes)."""
    found = _compiled.get(rule.id)
    if found is None or found.text != rule.expression:
        found = compile_rule(rule.expression, vocabulary.default())
        _compiled[rule.id] = found
    return found


def published_rules(
    institution_id: uuid.UUID, skipped: list[str] | None = None
) -> dict[str, tuple[RuleRef, CompiledRule]]:
    """{tag id: (rule, compiled)} of the institution's published rules that compile now; the
    tag ids of published rules that no longer compile (the vocabulary changed under them) are
    appended to `skipped`."""
    out: dict[str, tuple[RuleRef, CompiledRule]] = {}
    rows = TagRule.objects.filter(
        institution_id=institution_id, status=RuleStatus.PUBLISHED, tag__is_active=True
    ).values_list("id", "tag_id", "version", "expression")
    for row in rows:
        rule = RuleRef(*row)
        try:
            out[str(rule.tag_id)] = (rule, compiled(rule))
        except RuleError:
            log.warning("tag rule no longer compiles", extra={"rule_id": str(rule.id)})
            if skipped is not None:
                skipped.append(str(rule.tag_id))
    return out


def system_actor(institution_id: uuid.UUID) -> ledger.Actor:
    return ledger.Actor(id="system:tagging", role="system", institution_id=str(institution_id))


def _carried(institution_id: uuid.UUID, client_ids: Sequence[str] | None) -> pl.DataFrame:
    """(client_id, tag) of the rule tags clients carry: plain rows, not model values (a
    population run reads hundreds of thousands)."""
    schema = {"client_id": pl.Utf8, "tag": pl.Utf8}
    if client_ids is not None and not client_ids:
        return pl.DataFrame(schema=schema)
    postgres = connection.vendor == "postgresql"
    table = ClientTag._meta.db_table
    key = ClientTag._meta.get_field("client").target_field
    columns = "client_id::text, tag_id::text" if postgres else "client_id, tag_id"
    active = "active" if postgres else "active = 1"
    sql = f"SELECT {columns} FROM {table} WHERE {{scope}} AND source = %s AND {active}"  # noqa: S608
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if client_ids is None:
            inst = key.get_db_prep_value(institution_id, connection)
            cursor.execute(sql.format(scope="institution_id = %s"), [inst, Source.RULE])
            rows = cursor.fetchall()
        else:
            ids = [key.get_db_prep_value(uuid.UUID(str(c)), connection) for c in client_ids]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                scope = f"client_id IN ({marks}) AND institution_id = %s"
                inst = key.get_db_prep_value(institution_id, connection)
                cursor.execute(sql.format(scope=scope), [*chunk, inst, Source.RULE])
                rows.extend(cursor.fetchall())
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if postgres:
        return frame
    return frame.with_columns(uuid_text(pl.col("client_id")), uuid_text(pl.col("tag")))


def reevaluate(
    *,
    institution_id: uuid.UUID,
    client_ids: Sequence[str] | None = None,
    trigger: str = "data_change",
) -> Outcome:
    """Apply and remove rule tags so that they match the published rules now."""
    import time

    outcome = Outcome()
    now = timezone.now()
    rules = published_rules(institution_id, outcome.skipped_rules)
    outcome.rules = len(rules)
    ids = None if client_ids is None else [str(c) for c in client_ids]
    # A published rule that no longer compiles is still the tag's rule: its tags are kept as
    # they are (not removed as if it were retired) until the admin fixes or retires it.
    carried = _carried(institution_id, ids).filter(~pl.col("tag").is_in(outcome.skipped_rules))
    if not rules and carried.is_empty():
        return outcome  # nothing published and nothing to take back: no facts to read
    wanted: dict[str, Fact] = {}
    for _rule, comp in rules.values():
        for fact in comp.facts:
            wanted[fact.column] = fact
    started = time.perf_counter()
    frame = facts.build_facts(
        institution_id=institution_id, facts=wanted.values(), client_ids=ids, now=now
    )
    outcome.clients = frame.height
    outcome.seconds_facts = time.perf_counter() - started
    started = time.perf_counter()
    fires = evaluate.fired(frame, {tag: comp for tag, (_r, comp) in rules.items()})
    changes = evaluate.diff(fires, carried)
    outcome.seconds_rules = time.perf_counter() - started
    started = time.perf_counter()
    if not changes.empty:
        touched = sorted(
            set(changes.gains["client_id"].to_list()) | set(changes.losses["client_id"].to_list())
        )
        for start in range(0, len(touched), BATCH):
            batch = touched[start : start + BATCH]
            applied, removed = _write_batch(
                institution_id, batch, frame, fires, rules, trigger=trigger, now=now
            )
            outcome.applied += applied
            outcome.removed += removed
    outcome.seconds_write = time.perf_counter() - started
    return outcome


def _write_batch(
    institution_id: uuid.UUID,
    batch: list[str],
    frame: pl.DataFrame,
    fires: pl.DataFrame,
    rules: dict[str, tuple[RuleRef, CompiledRule]],
    *,
    trigger: str,
    now: object,
) -> tuple[int, int]:
    with transaction.atomic():
        # Lock the batch's clients, then diff again under the lock (see the module docstring).
        list(
            Client.objects.select_for_update()
            .filter(pk__in=[uuid.UUID(c) for c in batch])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        existing = {
            (str(t.client_id), str(t.tag_id)): t
            for t in ClientTag.objects.filter(
                client_id__in=[uuid.UUID(c) for c in batch], source=Source.RULE
            )
        }
        carried = pl.DataFrame(
            {
                "client_id": [c for (c, _t), row in existing.items() if row.active],
                "tag": [t for (_c, t), row in existing.items() if row.active],
            },
            schema={"client_id": pl.Utf8, "tag": pl.Utf8},
        )
        now_firing = fires.filter(pl.col("client_id").is_in(batch))
        changes = evaluate.diff(now_firing, carried)
        columns = sorted({c for _r, comp in rules.values() for c in comp.columns})
        values = evaluate.facts_of(frame, batch, columns)
        events: list[TagEvent] = []
        created: list[ClientTag] = []
        updated: list[ClientTag] = []
        per_client: dict[str, dict[str, list]] = {}

        def note(client: str, kind: str, row: ClientTag, event: TagEvent) -> None:
            entry = per_client.setdefault(client, {"applied": [], "removed": [], "rows": []})
            entry[kind].append(str(row.tag_id))
            entry["rows"].extend([row, event])

        for client, tag in changes.gains.iter_rows():
            rule, comp = rules[tag]
            seen = {c: values.get(client, {}).get(c) for c in comp.columns}
            row = existing.get((client, tag))
            if row is None:
                row = ClientTag(
                    institution_id=institution_id,
                    client_id=uuid.UUID(client),
                    tag_id=uuid.UUID(tag),
                    source=Source.RULE,
                )
                created.append(row)
            else:
                updated.append(row)
            row.active, row.rule_id, row.applied_at, row.removed_at = True, rule.id, now, None
            event = _event(institution_id, client, tag, Op.APPLIED, Why.RULE_FIRED, rule.id, seen)
            event.trigger, event.at = trigger, now
            events.append(event)
            note(client, "applied", row, event)
        for client, tag in changes.losses.iter_rows():
            row = existing[(client, tag)]
            rule_comp = rules.get(tag)
            if rule_comp is None:
                why, rule_id, seen = Why.RULE_RETIRED, row.rule_id, {}
            else:
                rule, comp = rule_comp
                why, rule_id = Why.RULE_STOPPED, rule.id
                seen = {c: values.get(client, {}).get(c) for c in comp.columns}
            row.active, row.removed_at = False, now
            updated.append(row)
            event = _event(institution_id, client, tag, Op.REMOVED, why, rule_id, seen)
            event.trigger, event.at = trigger, now
            events.append(event)
            note(client, "removed", row, event)
        stamp = timezone.now()
        for row in created + updated:
            row.updated_at = stamp
            if row.created_at is None:
                row.created_at = stamp
        ClientTag.objects.bulk_create(created)
        if updated:
            ClientTag.objects.bulk_update(
                updated, ["active", "rule", "applied_at", "removed_at", "updated_at"]
            )
        TagEvent.objects.bulk_create(events)
        clients = sorted(per_client)
        if clients:
            ledger.record_many(
                actor=system_actor(institution_id),
                action=permissions.EV_EVALUATE,
                client_ids=clients,
                purpose="care",
                resource_type="Flag",
                details=[
                    {
                        "trigger": trigger,
                        "applied": per_client[c]["applied"],
                        "removed": per_client[c]["removed"],
                    }
                    for c in clients
                ],
                sealed=[per_client[c]["rows"] for c in clients],
            )
    return len(changes.gains), len(changes.losses)


def _event(
    institution_id: uuid.UUID,
    client: str,
    tag: str,
    op: str,
    why: str,
    rule_id: uuid.UUID | None,
    seen: dict,
) -> TagEvent:
    return TagEvent(
        institution_id=institution_id,
        client_id=uuid.UUID(client),
        tag_id=uuid.UUID(tag),
        op=op,
        source=Source.RULE,
        why=why,
        rule_id=rule_id,
        facts=seen,
    )
