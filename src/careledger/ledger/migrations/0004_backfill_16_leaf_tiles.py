"""Data migration: tile nodes down to subtrees of 16 leaves (TILE_LEVEL 8 → 4).

0003 wrote the nodes of 256 leaves and more; proofs are about ten times cheaper with 16-leaf
tiles. This replays the stored leaf hashes once more and adds every missing node of level 4 and
up (existing ones are left alone), so ledgers migrated with either version end up the same.
Reversible: the reverse removes the nodes below level 8 again.
"""

from django.db import migrations

from careledger.ledger.merkle import Frontier

TILE_LEVEL = 4  # as in ledger.models at the time of this migration
CHUNK = 5000


def backfill(apps, schema_editor):
    Entry = apps.get_model("ledger", "LedgerEntry")
    Node = apps.get_model("ledger", "LedgerNode")
    frontier = Frontier()
    last = -1
    while True:
        batch = list(
            Entry.objects.filter(seq__gt=last)
            .order_by("seq")
            .values_list("seq", "leaf_hash")[:CHUNK]
        )
        if not batch:
            break
        nodes = []
        for _seq, leaf_hash in batch:
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
        last = batch[-1][0]
        Node.objects.bulk_create(nodes, batch_size=1000, ignore_conflicts=True)


def remove_small(apps, schema_editor):
    apps.get_model("ledger", "LedgerNode").objects.filter(level__lt=8).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_backfill_tiles_and_row_seals")]

    operations = [migrations.RunPython(backfill, remove_small)]
