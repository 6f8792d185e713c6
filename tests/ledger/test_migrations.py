"""The ledger's migrations are reversible, and the data migration gives a ledger written before
tiles and row seals existed its tile nodes (16 leaves and up, after 0004) and its (v1) Client
row seals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from careledger.ledger import merkle

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ledger", "0001_initial")]
AFTER = [("ledger", "0004_backfill_16_leaf_tiles")]


def migrate(targets):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_backfill_writes_tiles_and_v1_seals_and_reverses(db):
    apps = migrate(BEFORE)
    Entry = apps.get_model("ledger", "LedgerEntry")
    frontier = merkle.Frontier()
    rows = []
    for seq in range(600):
        detail = {"row_digest": f"{seq:064x}"} if seq in (3, 517) else {}
        event = {
            "v": 1,
            "action": "client.enrol" if detail else "client.view",
            "client": "c-3" if seq == 3 else "c-517",
            "resource": {"type": "Client", "id": "c-3" if seq == 3 else "c-517"}
            if detail
            else None,
            "detail": detail,
        }
        leaf = merkle.canonical_json(event)
        h = merkle.leaf_hash(leaf)
        frontier.append(h)
        rows.append(
            Entry(
                seq=seq,
                leaf=leaf.decode(),
                leaf_hash=h.hex(),
                recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                action=event["action"],
                outcome="allowed",
            )
        )
    Entry.objects.bulk_create(rows)

    apps = migrate(AFTER)
    Node = apps.get_model("ledger", "LedgerNode")
    Seal = apps.get_model("ledger", "RowSeal")
    expected = [(level, i) for level in range(4, 10) for i in range(600 >> level)]
    assert sorted(Node.objects.values_list("level", "index")) == expected
    hashes = [
        bytes.fromhex(e.leaf_hash)
        for e in apps.get_model("ledger", "LedgerEntry").objects.order_by("seq")
    ]
    assert Node.objects.get(level=9).hash == merkle.root_from_leaf_hashes(hashes[:512]).hex()
    assert sorted(Seal.objects.values_list("row_id", "seq", "digest")) == [
        ("c-3", 3, f"{3:064x}"),
        ("c-517", 517, f"{517:064x}"),
    ]
    assert json.loads(rows[3].leaf)["detail"]["row_digest"]

    apps = migrate(BEFORE)  # reversible
    assert "ledger_rowseal" not in connection.introspection.table_names()
    migrate(AFTER)
    apps.get_model("ledger", "LedgerEntry").objects.all().delete()
