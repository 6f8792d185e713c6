"""Data migration: tile nodes and row seals for a ledger that existed before them.

Replays the stored leaf hashes to write every completed tile node (subtrees of 256 leaves and
more), and indexes the row digests that v1 leaves carried in `detail.row_digest` (Client rows)
as row seals. Uses the stored hashes as they are: `careledger ledger verify` checks them all.
Reversible: the reverse empties both tables (0002's reverse then drops them).
"""

import json

from django.db import migrations

from careledger.ledger.merkle import Frontier

TILE_LEVEL = 8  # as in ledger.models at the time of this migration
CHUNK = 5000


def backfill(apps, schema_editor):
    Entry = apps.get_model("ledger", "LedgerEntry")
    Node = apps.get_model("ledger", "LedgerNode")
    RowSeal = apps.get_model("ledger", "RowSeal")
    frontier = Frontier()
    seals = {}
    last = -1
    while True:
        batch = list(
            Entry.objects.filter(seq__gt=last)
            .order_by("seq")
            .values_list("seq", "leaf", "leaf_hash")[:CHUNK]
        )
        if not batch:
            break
        nodes = []
        for seq, leaf, leaf_hash in batch:
            completed = frontier.push(bytes.fromhex(leaf_hash))
            for level in range(TILE_LEVEL, len(completed)):
                index = (frontier.size >> level) - 1
                nodes.append(
                    Node(
                        id=(level << 56) | index,
                        level=level,
                        index=index,
                        hash=completed[level].hex(),
                    )
                )
            try:
                event = json.loads(leaf)
            except ValueError:
                continue
            detail = event.get("detail") or {}
            resource = event.get("resource") or {}
            if resource.get("type") == "Client" and detail.get("row_digest") and resource.get("id"):
                seals[resource["id"]] = (detail["row_digest"], seq)
        last = batch[-1][0]
        Node.objects.bulk_create(nodes, ignore_conflicts=True)
    RowSeal.objects.bulk_create(
        [
            RowSeal(table="clients_client", row_id=row_id, digest=digest, seq=seq)
            for row_id, (digest, seq) in seals.items()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def empty(apps, schema_editor):
    apps.get_model("ledger", "LedgerNode").objects.all().delete()
    apps.get_model("ledger", "RowSeal").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_tiles_seals_signed_heads")]

    operations = [migrations.RunPython(backfill, empty)]
