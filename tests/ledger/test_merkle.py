"""RFC 9162 hashing, the append frontier and proofs (pure, no database)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.ledger import merkle

# The certificate-transparency reference test tree (RFC 6962 test vectors).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def reference_mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written as literally as possible."""
    if not hashes:
        return merkle.EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << (math.ceil(math.log2(len(hashes))) - 1)
    return merkle.node_hash(reference_mth(hashes[:k]), reference_mth(hashes[k:]))


def test_published_roots_of_the_reference_tree():
    assert merkle.root_from_leaf_hashes(HASHES[:1]).hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle.root_from_leaf_hashes(HASHES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_frontier_root_matches_the_definition_at_every_size():
    hashes = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(200)]
    frontier = merkle.Frontier()
    for size in range(201):
        assert frontier.root() == reference_mth(hashes[:size]), size
        if size % 37 == 0:  # stored and reloaded mid-stream, as the database does
            frontier = merkle.Frontier.from_json(frontier.to_json())
        if size < 200:
            frontier.append(hashes[size])


@given(st.lists(st.binary(max_size=20), max_size=70))
def test_frontier_and_bulk_root_agree_for_any_leaves(leaves):
    hashes = [merkle.leaf_hash(x) for x in leaves]
    frontier = merkle.Frontier()
    for h in hashes:
        frontier.append(h)
    assert frontier.root() == merkle.root_from_leaf_hashes(hashes) == reference_mth(hashes)


def test_inclusion_proofs_verify_and_fail_when_anything_changes():
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(64)]
    for size in range(1, 65):
        root = reference_mth(hashes[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, hashes[:size])
            assert merkle.verify_inclusion(index, size, hashes[index], proof, root)
            assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"x"), proof, root)
            if size > 1:
                assert not merkle.verify_inclusion(
                    (index + 1) % size, size, hashes[index], proof, root
                )
            if proof:
                bad = [*proof[:-1], merkle.leaf_hash(b"y")]
                assert not merkle.verify_inclusion(index, size, hashes[index], bad, root)
            assert not merkle.verify_inclusion(index, size, hashes[index], proof, merkle.EMPTY_ROOT)


def test_consistency_proofs_verify_and_fail_on_altered_roots():
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(40)]
    for new in range(1, 41):
        new_root = reference_mth(hashes[:new])
        for old in range(1, new + 1):
            old_root = reference_mth(hashes[:old])
            proof = merkle.consistency_proof(old, hashes[:new])
            assert merkle.verify_consistency(old, new, old_root, new_root, proof), (old, new)
            assert not merkle.verify_consistency(old, new, merkle.EMPTY_ROOT, new_root, proof)
            if old < new:
                assert not merkle.verify_consistency(old, new, old_root, old_root, proof)


def test_canonical_json_is_stable_and_refuses_nan():
    assert merkle.canonical_json({"b": 1, "a": "王"}) == merkle.canonical_json({"a": "王", "b": 1})
    assert merkle.canonical_json({"a": "王"}) == '{"a":"王"}'.encode()
    with pytest.raises(ValueError):
        merkle.canonical_json({"x": float("nan")})
