"""RFC 9162 hashing, the append frontier and proofs (pure, no database).

Two independent checks keep the module honest: the published Certificate Transparency reference
vectors, and reference implementations below that transcribe RFC 9162's recursive definitions
(MTH, PATH, SUBPROOF) as literally as possible. The module computes roots bottom-up and verifies
proofs with the RFC's iterative algorithms, so agreement between the two is meaningful.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.ledger import merkle

# Reference test tree of google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc
# (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs). Its leaf numbers are 1-based; ours are
# 0-based indexes.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]
EMPTY_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PUBLISHED_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (index, size) -> audit path
PUBLISHED_PATHS = {
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
# (old size, new size) -> consistency proof
PUBLISHED_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


# --- Reference implementations: RFC 9162 §2.1, transcribed; hashlib only, not the module ------


def ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_k(n: int) -> int:
    """The largest power of two smaller than n, by counting up."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH over leaf *hashes* (so callers can feed arbitrary 32-byte values)."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = ref_k(len(d))
    return ref_node(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = ref_k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_sides(m: int, n: int) -> list[str]:
    """Which side each audit-path node sits on, leaf to root: what (index, size) means to a
    verifier. Two (index, size) pairs with the same sides are indistinguishable to one."""
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return [*ref_sides(m, k), "right"]
    return [*ref_sides(m - k, n - k), "left"]


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


def unhex(items: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in items]


def hashes_of(count: int) -> list[bytes]:
    return [ref_leaf(i.to_bytes(4, "big")) for i in range(count)]


# --- Primitives ------------------------------------------------------------------------------


def test_leaf_and_node_hashes_are_domain_separated():
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert a == hashlib.sha256(b"\x00a").digest()
    assert merkle.node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    # The classic second preimage: a "leaf" made of two child hashes is not their parent.
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)
    assert merkle.root_from_leaf_hashes([merkle.leaf_hash(a + b)]) != (
        merkle.root_from_leaf_hashes([a, b])
    )


def test_empty_root():
    assert merkle.EMPTY_ROOT.hex() == EMPTY_HEX
    assert merkle.root_from_leaf_hashes([]) == merkle.EMPTY_ROOT
    assert merkle.Frontier().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(PUBLISHED_ROOTS))
def test_published_roots_of_the_reference_tree(size):
    expected = PUBLISHED_ROOTS[size]
    assert merkle.root_from_leaf_hashes(HASHES[:size]).hex() == expected
    assert ref_mth([ref_leaf(x) for x in LEAVES[:size]]).hex() == expected
    frontier = merkle.Frontier()
    for h in HASHES[:size]:
        frontier.append(h)
    assert frontier.root().hex() == expected


@pytest.mark.parametrize(("index", "size"), sorted(PUBLISHED_PATHS))
def test_published_inclusion_proofs(index, size):
    expected = unhex(PUBLISHED_PATHS[index, size])
    assert merkle.inclusion_proof(index, HASHES[:size]) == expected
    root = bytes.fromhex(PUBLISHED_ROOTS[size])
    assert merkle.verify_inclusion(index, size, HASHES[index], expected, root)


@pytest.mark.parametrize(("old", "new"), sorted(PUBLISHED_CONSISTENCY))
def test_published_consistency_proofs(old, new):
    expected = unhex(PUBLISHED_CONSISTENCY[old, new])
    assert merkle.consistency_proof(old, HASHES[:new]) == expected
    old_root, new_root = (bytes.fromhex(PUBLISHED_ROOTS[s]) for s in (old, new))
    assert merkle.verify_consistency(old, new, old_root, new_root, expected)


def test_root_of_every_size_up_to_300_matches_the_definition():
    hashes = hashes_of(300)
    for size in range(301):
        assert merkle.root_from_leaf_hashes(hashes[:size]) == ref_mth(hashes[:size]), size


# --- Frontier --------------------------------------------------------------------------------


def test_frontier_root_matches_the_definition_at_every_size():
    hashes = hashes_of(200)
    frontier = merkle.Frontier()
    for size in range(201):
        assert frontier.size == size
        assert len(frontier.nodes) == size.bit_count()
        assert frontier.root() == ref_mth(hashes[:size]), size
        # Stored and reloaded through real JSON, as the database row does.
        stored = json.loads(json.dumps(frontier.to_json()))
        reloaded = merkle.Frontier.from_json(stored)
        assert reloaded.to_json() == frontier.to_json()
        assert reloaded.root() == frontier.root()
        if size % 3 == 0:  # carry on from the reloaded copy a third of the time
            frontier = reloaded
        if size < 200:
            frontier.append(hashes[size])


@settings(max_examples=200, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=20), max_size=150),
    cut=st.integers(min_value=0, max_value=150),
)
def test_frontier_and_bulk_root_agree_for_any_leaves(leaves, cut):
    hashes = [merkle.leaf_hash(x) for x in leaves]
    cut = min(cut, len(hashes))
    frontier = merkle.Frontier()
    for h in hashes[:cut]:
        frontier.append(h)
    assert frontier.root() == ref_mth(hashes[:cut])
    frontier = merkle.Frontier.from_json(json.loads(json.dumps(frontier.to_json())))
    for h in hashes[cut:]:
        frontier.append(h)
    assert frontier.size == len(hashes)
    assert frontier.root() == merkle.root_from_leaf_hashes(hashes) == ref_mth(hashes)


def test_a_hundred_thousand_leaves():
    hashes = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    started = time.perf_counter()
    bulk = merkle.root_from_leaf_hashes(hashes)
    frontier = merkle.Frontier()
    for h in hashes:
        frontier.append(h)
    elapsed = time.perf_counter() - started
    assert frontier.root() == bulk
    assert len(frontier.nodes) == bin(100_000).count("1")
    assert elapsed < 30, elapsed  # about half a second in practice; only a gross regression fails
    proof = merkle.inclusion_proof(77_777, hashes)
    assert len(proof) == 17
    assert merkle.verify_inclusion(77_777, 100_000, hashes[77_777], proof, bulk)
    old_root = merkle.root_from_leaf_hashes(hashes[:65_537])
    proof = merkle.consistency_proof(65_537, hashes)
    assert merkle.verify_consistency(65_537, 100_000, old_root, bulk, proof)


def test_frontier_empty_json_column_is_the_empty_tree():
    frontier = merkle.Frontier.from_json({})
    assert frontier.size == 0
    assert frontier.root() == merkle.EMPTY_ROOT
    assert merkle.Frontier().to_json() == {"size": 0, "nodes": []}


@pytest.mark.parametrize(
    "data",
    [
        {"size": 3, "nodes": ["00" * 32]},  # two set bits, one node
        {"size": 1, "nodes": ["00" * 32, "11" * 32]},
        {"size": -1, "nodes": []},
        {"size": True, "nodes": ["00" * 32]},
        {"size": "1", "nodes": ["00" * 32]},
        {"size": 1, "nodes": ["zz" * 32]},
        {"size": 1, "nodes": ["00" * 31]},
        {"size": 1, "nodes": "00" * 32},
        {"size": 1, "nodes": [None]},
        ["size", 1],
    ],
)
def test_frontier_refuses_a_corrupt_state(data):
    with pytest.raises(ValueError):
        merkle.Frontier.from_json(data)


def test_frontier_refuses_something_that_is_not_a_hash():
    frontier = merkle.Frontier()
    with pytest.raises(ValueError):
        frontier.append(b"short")
    with pytest.raises(ValueError):
        frontier.append(merkle.leaf_hash(b"x").hex())  # type: ignore[arg-type]
    assert frontier.size == 0


# --- Inclusion proofs ------------------------------------------------------------------------


def test_inclusion_proofs_match_the_definition_and_verify():
    hashes = hashes_of(64)
    for size in range(1, 65):
        root = ref_mth(hashes[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, hashes[:size])
            assert proof == ref_path(index, hashes[:size]), (index, size)
            assert merkle.verify_inclusion(index, size, hashes[index], proof, root), (index, size)


def test_inclusion_proof_fails_when_anything_is_altered():
    hashes = hashes_of(64)
    for size in range(1, 65):
        root = ref_mth(hashes[:size])
        for index in range(size):
            leaf = hashes[index]
            proof = merkle.inclusion_proof(index, hashes[:size])
            ok = merkle.verify_inclusion
            # the leaf
            assert not ok(index, size, flip(leaf), proof, root)
            assert not ok(index, size, hashes[(index + 1) % 64], proof, root)
            # the root
            assert not ok(index, size, leaf, proof, flip(root, 7))
            assert not ok(index, size, leaf, proof, merkle.EMPTY_ROOT)
            # the index: any other one in the tree, and ones outside it
            for other in range(size):
                if other != index:
                    assert not ok(other, size, leaf, proof, root), (index, other, size)
            assert not ok(-1, size, leaf, proof, root)
            assert not ok(size, size, leaf, proof, root)
            # any single proof element
            for j in range(len(proof)):
                bad = list(proof)
                bad[j] = flip(bad[j], j % 8)
                assert not ok(index, size, leaf, bad, root), (index, size, j)
            # the proof's length: truncated, extended, garbage in front
            if proof:
                assert not ok(index, size, leaf, proof[:-1], root)
                assert not ok(index, size, leaf, proof[1:], root)
            assert not ok(index, size, leaf, [*proof, root], root)
            assert not ok(index, size, leaf, [*proof, b""], root)
            assert not ok(index, size, leaf, [b"", *proof], root)


def test_inclusion_proof_fails_when_the_size_is_altered():
    """An altered size fails whenever it changes how the verifier reads the path.

    The RFC verifier derives the path's shape (which side each sibling is on, how many there are)
    from (index, size); the root is what commits to the tree. So a size that yields the very same
    shape, e.g. 7 instead of 8 for index 0, is accepted: the proof is still a true statement about
    the tree with that root. The size is bound by signing it together with the root in the tree
    head, not by the proof. Checked here: rejection happens exactly when the shape differs, which
    includes the reference code's doubled and halved sizes.
    """
    hashes = hashes_of(64)
    accepted_with_other_size = 0
    for size in range(1, 65):
        root = ref_mth(hashes[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, hashes[:size])
            for other in range(index + 1, 130):
                if other == size:
                    continue
                same_shape = ref_sides(index, other) == ref_sides(index, size)
                result = merkle.verify_inclusion(index, other, hashes[index], proof, root)
                assert result == same_shape, (index, size, other)
                accepted_with_other_size += result
            for other in (size * 2, size // 2):
                assert not merkle.verify_inclusion(index, other, hashes[index], proof, root)
    assert not merkle.verify_inclusion(0, 0, merkle.EMPTY_ROOT, [], merkle.EMPTY_ROOT)
    # The documented case really occurs (index 0 of 8 read as index 0 of 7).
    assert merkle.verify_inclusion(
        0, 7, HASHES[0], merkle.inclusion_proof(0, HASHES), bytes.fromhex(PUBLISHED_ROOTS[8])
    )
    assert accepted_with_other_size > 0


def test_inclusion_proof_refuses_an_index_outside_the_tree():
    for index in (-1, 3):
        with pytest.raises(ValueError):
            merkle.inclusion_proof(index, HASHES[:3])
    with pytest.raises(ValueError):
        merkle.inclusion_proof(0, [])


# --- Consistency proofs ----------------------------------------------------------------------


def test_consistency_proofs_match_the_definition_and_verify():
    hashes = hashes_of(40)
    for new in range(1, 41):
        new_root = ref_mth(hashes[:new])
        for old in range(1, new + 1):
            old_root = ref_mth(hashes[:old])
            proof = merkle.consistency_proof(old, hashes[:new])
            assert proof == ref_subproof(old, hashes[:new], True), (old, new)
            assert merkle.verify_consistency(old, new, old_root, new_root, proof), (old, new)


def test_consistency_proof_fails_when_anything_is_altered():
    hashes = hashes_of(40)
    for new in range(1, 41):
        new_root = ref_mth(hashes[:new])
        for old in range(1, new + 1):
            old_root = ref_mth(hashes[:old])
            proof = merkle.consistency_proof(old, hashes[:new])
            ok = merkle.verify_consistency
            # either root
            assert not ok(old, new, flip(old_root), new_root, proof), (old, new)
            assert not ok(old, new, old_root, flip(new_root, 5), proof), (old, new)
            assert not ok(old, new, merkle.EMPTY_ROOT, new_root, proof)
            assert not ok(old, new, old_root, merkle.EMPTY_ROOT, proof)
            if old == new:
                assert not proof
                assert not ok(old, new, old_root, new_root, [old_root])
                continue
            assert not ok(old, new, new_root, old_root, proof)  # swapped
            # any single proof element
            for j in range(len(proof)):
                bad = list(proof)
                bad[j] = flip(bad[j], j % 8)
                assert not ok(old, new, old_root, new_root, bad), (old, new, j)
            # the proof's length
            assert not ok(old, new, old_root, new_root, [])
            assert not ok(old, new, old_root, new_root, proof[:-1])
            assert not ok(old, new, old_root, new_root, [*proof, proof[-1]])
            assert not ok(old, new, old_root, new_root, [*proof, b""])
            assert not ok(old, new, old_root, new_root, [b"", *proof])
            # the sizes, as the reference code alters them
            for bad_old in (old - 1, old + 1, old ^ 2):
                if bad_old != old:
                    assert not ok(bad_old, new, old_root, new_root, proof), (old, bad_old, new)
            for bad_new in (new * 2, new // 2):
                assert not ok(old, bad_new, old_root, new_root, proof), (old, new, bad_new)


def test_consistency_from_the_empty_tree_and_out_of_range_sizes():
    root = merkle.root_from_leaf_hashes(HASHES)
    assert merkle.consistency_proof(0, HASHES) == []
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, root, [])
    assert not merkle.verify_consistency(0, 8, root, root, [])
    assert not merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, root, [root])
    assert not merkle.verify_consistency(-1, 8, merkle.EMPTY_ROOT, root, [])
    assert not merkle.verify_consistency(9, 8, root, root, [])
    for old in (-1, 9):
        with pytest.raises(ValueError):
            merkle.consistency_proof(old, HASHES)


# --- Canonical JSON --------------------------------------------------------------------------


def test_canonical_json_is_stable_under_key_order():
    a = {"b": 1, "a": "王", "nested": {"z": [1, {"y": 2, "x": None}], "c": True}}
    b = {"nested": {"c": True, "z": [1, {"x": None, "y": 2}]}, "a": "王", "b": 1}
    assert merkle.canonical_json(a) == merkle.canonical_json(b)
    assert merkle.canonical_json(a) == (
        '{"a":"王","b":1,"nested":{"c":true,"z":[1,{"x":null,"y":2}]}}'.encode()
    )
    assert merkle.leaf_hash(merkle.canonical_json(a)) == merkle.leaf_hash(merkle.canonical_json(b))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_canonical_json_refuses_nan_and_infinity(bad):
    with pytest.raises(ValueError):
        merkle.canonical_json({"x": bad})
    with pytest.raises(ValueError):
        merkle.canonical_json({"deep": [{"x": bad}]})
