"""Proofs from the database (tile nodes + at most a couple of tiles of leaves) equal the pure
proofs over every leaf and an independent recursive transcription of RFC 9162, for random
sizes and indexes, and verify with `merkle.verify_inclusion` / `verify_consistency`. Also: the
tiles are written as appends complete them, and a proof reads O(log n) rows, not the log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_reference import mth, path, proof

from careledger.ledger import merkle, proofs
from careledger.ledger import services as ledger
from careledger.ledger.models import TILE_LEVEL, LedgerEntry, LedgerHead, LedgerNode, node_key

pytestmark = pytest.mark.django_db

SIZE = 2100  # tiles at levels 8-11, a partial tile at the end
NO_DB_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def append(count: int) -> None:
    for start in range(0, count, 500):
        n = min(500, count - start)
        ledger.record_many(
            actor=ledger.SYSTEM, action="test.append", client_ids=[str(i) for i in range(n)]
        )


def leaf_hashes() -> list[bytes]:
    return [bytes.fromhex(h) for h in LedgerEntry.objects.values_list("leaf_hash", flat=True)]


@pytest.fixture
def log(db):  # type: ignore[no-untyped-def]
    append(SIZE)
    return leaf_hashes()


def test_tiles_are_written_as_appends_complete_them(log):
    stored = {(n.level, n.index): bytes.fromhex(n.hash) for n in LedgerNode.objects.all()}
    expected = {
        (level, index): mth(log[index << level : (index + 1) << level])
        for level in range(TILE_LEVEL, SIZE.bit_length())
        for index in range(SIZE >> level)
    }
    assert stored == expected
    assert all(n.id == node_key(n.level, n.index) for n in LedgerNode.objects.all())
    assert LedgerHead.objects.get().root == mth(log).hex()


@settings(max_examples=60, deadline=None, suppress_health_check=NO_DB_HEALTH)
@given(data=st.data())
def test_inclusion_proofs_from_the_database_match_the_definition(log, data):
    size = data.draw(st.integers(1, SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    got = proofs.inclusion_proof(index, size)
    assert got == path(index, log[:size])
    assert got == merkle.inclusion_proof(index, log[:size])
    assert merkle.verify_inclusion(index, size, log[index], got, mth(log[:size]))


@settings(max_examples=60, deadline=None, suppress_health_check=NO_DB_HEALTH)
@given(data=st.data())
def test_consistency_proofs_from_the_database_match_the_definition(log, data):
    new = data.draw(st.integers(0, SIZE), label="new")
    old = data.draw(st.integers(0, new), label="old")
    got = proofs.consistency_proof(old, new)
    assert got == proof(old, log[:new])
    assert got == merkle.consistency_proof(old, log[:new])
    assert merkle.verify_consistency(old, new, mth(log[:old]), mth(log[:new]), got)


@pytest.mark.parametrize("size", [1, 255, 256, 257, 511, 512, 1024, 2047, 2048, 2100])
def test_root_at_every_interesting_size(log, size):
    assert proofs.root_at(size) == mth(log[:size])


def test_a_proof_reads_a_few_rows_not_the_log(log):
    with CaptureQueriesContext(connection) as queries:
        proofs.inclusion_proof(3, SIZE)
    assert len(queries) <= 3  # head size, nodes, leaves of the tiles


def test_proofs_refuse_sizes_and_indexes_outside_the_log(log):
    for call in (
        lambda: proofs.inclusion_proof(0, SIZE + 1),
        lambda: proofs.inclusion_proof(SIZE, SIZE),
        lambda: proofs.inclusion_proof(-1, 5),
        lambda: proofs.consistency_proof(6, 5),
        lambda: proofs.consistency_proof(1, SIZE + 1),
        lambda: proofs.root_at(SIZE + 1),
        lambda: proofs.leaf_hash(SIZE),
    ):
        with pytest.raises(proofs.ProofError):
            call()


def test_a_missing_tile_node_falls_back_to_the_leaves(log):
    LedgerNode.objects.filter(level=10).delete()
    assert proofs.inclusion_proof(5, SIZE) == path(5, log)


def test_a_missing_entry_is_a_proof_error_not_a_wrong_proof(log):
    LedgerEntry.objects.filter(seq=2050).delete()
    with pytest.raises(proofs.ProofError, match="2050"):
        proofs.inclusion_proof(2049, SIZE)
