"""Proof shapes by index arithmetic (pure, no database): the ranges `treemath` names are exactly
the subtrees RFC 9162's recursive PATH and SUBPROOF use, their perfect-subtree decomposition
folds to the same hashes, and `Frontier.push` reports every completed subtree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_reference import leaf, mth, path, proof

from careledger.ledger import merkle, treemath

HASHES = [leaf(i.to_bytes(4, "big")) for i in range(600)]


def by_ranges(ranges: list[tuple[int, int]], hashes: list[bytes]) -> list[bytes]:
    return [mth(hashes[lo:hi]) for lo, hi in ranges]


def by_parts(lo: int, hi: int, hashes: list[bytes]) -> bytes:
    roots = [
        mth(hashes[index << level : (index + 1) << level])
        for level, index in treemath.perfect_parts(lo, hi)
    ]
    return merkle.fold_right(roots)


def test_split_is_the_largest_power_of_two_below():
    assert [treemath.split(n) for n in (2, 3, 4, 5, 8, 9, 1000)] == [1, 2, 2, 4, 4, 8, 512]
    with pytest.raises(ValueError):
        treemath.split(1)


def test_inclusion_ranges_are_the_rfc_audit_path_for_every_small_tree():
    for size in range(1, 70):
        for index in range(size):
            ranges = treemath.inclusion_ranges(index, size)
            assert by_ranges(ranges, HASHES[:size]) == path(index, HASHES[:size]), (index, size)


def test_consistency_ranges_are_the_rfc_proof_for_every_small_tree():
    for new in range(0, 70):
        for old in range(0, new + 1):
            ranges = treemath.consistency_ranges(old, new)
            assert by_ranges(ranges, HASHES[:new]) == proof(old, HASHES[:new]), (old, new)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_ranges_match_the_definition_for_random_sizes(data):
    size = data.draw(st.integers(1, len(HASHES)))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    d = HASHES[:size]
    root = mth(d)
    incl = by_ranges(treemath.inclusion_ranges(index, size), d)
    assert incl == path(index, d)
    assert merkle.verify_inclusion(index, size, d[index], incl, root)
    cons = by_ranges(treemath.consistency_ranges(old, size), d)
    assert cons == proof(old, d)
    assert merkle.verify_consistency(old, size, mth(d[:old]), root, cons)


def test_every_proof_range_folds_from_its_perfect_parts():
    for size in range(1, 130):
        for index in range(size):
            for lo, hi in treemath.inclusion_ranges(index, size):
                assert by_parts(lo, hi, HASHES) == mth(HASHES[lo:hi]), (lo, hi)
        for old in range(size + 1):
            for lo, hi in treemath.consistency_ranges(old, size):
                assert by_parts(lo, hi, HASHES) == mth(HASHES[lo:hi]), (lo, hi)
        assert by_parts(0, size, HASHES) == mth(HASHES[:size])


def test_perfect_parts_refuses_a_range_that_is_not_a_subtree():
    assert treemath.perfect_parts(8, 13) == [(2, 2), (0, 12)]
    with pytest.raises(ValueError):
        treemath.perfect_parts(3, 7)  # starts inside a pair
    with pytest.raises(ValueError):
        treemath.perfect_parts(5, 5)


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_inclusion_ranges_refuse_an_index_outside_the_tree(index, size):
    with pytest.raises(ValueError):
        treemath.inclusion_ranges(index, size)


def test_consistency_ranges_refuse_sizes_out_of_order():
    with pytest.raises(ValueError):
        treemath.consistency_ranges(5, 4)
    with pytest.raises(ValueError):
        treemath.consistency_ranges(-1, 4)


def test_tile_of_places_small_subtrees_in_their_tile():
    assert treemath.tile_of(0, 255, 8) == 0
    assert treemath.tile_of(0, 256, 8) == 1
    assert treemath.tile_of(3, 40, 8) == 1  # leaves 320-327
    assert treemath.tile_of(8, 1, 8) is None


def test_frontier_push_reports_every_completed_subtree():
    frontier = merkle.Frontier()
    for i, h in enumerate(HASHES[:300]):
        completed = frontier.push(h)
        size = i + 1
        trailing = (size & -size).bit_length() - 1
        assert len(completed) == trailing + 1
        for level, root in enumerate(completed):
            start = size - (1 << level)
            assert root == mth(HASHES[start:size]), (size, level)
    assert frontier.root() == mth(HASHES[:300])
