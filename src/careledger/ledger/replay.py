"""Replaying the ledger from its entries: the part of `verify` that trusts nothing stored.

The entries are streamed in primary-key order, in chunks, and every check that needs only the
entries themselves is made on the way: each leaf hash is recomputed from the leaf text; each
sequence number must follow the last (a gap is a deleted entry); a v2 leaf names its own
position (a leaf found elsewhere was moved: reordering); the denormalised columns the portal
and the API filter on must agree with the leaf; and every tile node an append would have
written is compared with the stored one, chunk by chunk. Along the way it collects what the
other checks compare against: the root at each signed head's size, the latest seal of every
sealed row, and the signing keys the log announced.

The replay can be extended (`catch_up`): entries committed while `verify` runs are picked up,
so a busy system does not produce false alarms (an append commits its entries, tiles, seals
and head together).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q

from careledger.ledger import merkle
from careledger.ledger.models import (
    TILE_LEVEL,
    TILE_MASK,
    LedgerEntry,
    LedgerHead,
    LedgerNode,
    node_key,
)

CHUNK = 5000
_sha256 = hashlib.sha256  # the leaf hash, inlined: SHA-256(0x00 ‖ leaf) as merkle.leaf_hash
_scan = json.JSONDecoder().scan_once  # the C scanner, without decode()'s whitespace regexes


def _parse(leaf: str) -> Any:
    """The leaf's JSON value, or None if it is not exactly one JSON value (canonical leaves
    have no surrounding whitespace)."""
    try:
        value, end = _scan(leaf, 0)
    except (StopIteration, ValueError):
        return None
    return value if end == len(leaf) else None


# v1 leaves (before row seals were first-class) carried a Client row's digest in the detail.
_V1_SEALED = {"Client": "clients_client"}
_COLUMNS = (
    ("action", "action"),
    ("outcome", "outcome"),
    ("actor_id", "actor"),
    ("institution_id", "institution"),
    ("client_id", "client"),
)


def seals_in(event: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(table, row id, digest or None for a deletion) for each row an event sealed."""
    if event.get("v", 1) >= 2:
        return [
            (s["table"], s["id"], s["digest"])
            for s in event.get("seals") or ()
            if isinstance(s, dict)
        ]
    detail = event.get("detail") or {}
    resource = event.get("resource") or {}
    table = _V1_SEALED.get(resource.get("type", ""))
    if table and detail.get("row_digest") and resource.get("id"):
        return [(table, resource["id"], detail["row_digest"])]
    return []


@dataclass
class Replay:
    head_sizes: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    last_seq: int = -1
    roots_at: dict[int, bytes] = field(default_factory=dict)
    # table -> row id -> (seq, digest or None)
    seals: dict[str, dict[str, tuple[int, str | None]]] = field(default_factory=dict)
    announced_keys: dict[str, str] = field(default_factory=dict)  # key id -> public key (b64)
    nodes_checked: int = 0

    @property
    def size(self) -> int:
        return self.frontier.size

    def run(self) -> None:
        """Replay every entry committed so far."""
        while self._chunk():
            pass

    def catch_up(self) -> None:
        """Replay entries committed since `run` (the head moved on while we were checking)."""
        head = LedgerHead.objects.filter(pk=1).first()
        for _ in range(5):
            if head is None or head.size <= self.size:
                return
            self.run()
            head = LedgerHead.objects.filter(pk=1).first()

    def _chunk(self) -> bool:
        # A plain cursor, not the ORM: at a million rows the per-row overhead is the budget.
        entries = connection.ops.quote_name(LedgerEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seq, leaf, leaf_hash, action, outcome, actor_id, institution_id, "  # noqa: S608
                f"client_id FROM {entries} WHERE seq > %s ORDER BY seq LIMIT {CHUNK}",
                [self.last_seq],
            )
            rows = cursor.fetchall()
        if not rows:
            return False
        completed_nodes: dict[int, tuple[int, int, bytes]] = {}
        for row in rows:
            self._entry(row, completed_nodes)
        self._check_nodes(completed_nodes)
        return True

    def _entry(self, row: tuple, completed_nodes: dict[int, tuple[int, int, bytes]]) -> None:
        seq, leaf, stored_hash = row[0], row[1], row[2]
        if seq != self.last_seq + 1:
            expected = self.last_seq + 1
            self.problems.append(
                f"entry {expected}: missing (deleted); the next entry found is {seq}"
                if seq == expected + 1
                else f"entries {expected}-{seq - 1}: missing (deleted); the next found is {seq}"
            )
        self.last_seq = seq
        computed = _sha256(b"\x00" + leaf.encode("utf-8")).digest()
        if computed.hex() != stored_hash:
            self.problems.append(f"entry {seq}: the leaf does not match its hash (edited)")
        event = _parse(leaf)
        if not isinstance(event, dict):
            self.problems.append(f"entry {seq}: the leaf is not a JSON object (edited)")
            event = {}
        self._check_event(seq, event, row[3:])
        size = self.frontier.size
        if (size + 1) & TILE_MASK:
            self.frontier.append(computed)
        else:
            completed = self.frontier.push(computed)
            for level in range(TILE_LEVEL, len(completed)):
                index = ((size + 1) >> level) - 1
                completed_nodes[node_key(level, index)] = (level, index, completed[level])
        if size + 1 in self.head_sizes:
            self.roots_at[size + 1] = self.frontier.root()

    def _check_event(self, seq: int, event: dict[str, Any], columns: tuple) -> None:
        if event.get("v", 1) >= 2 and event.get("seq") != seq:
            self.problems.append(
                f"entry {seq}: the leaf was written as entry {event.get('seq')} "
                "(moved: entries reordered)"
            )
        get = event.get
        found = (
            get("action") or "",
            get("outcome") or "",
            get("actor") or "",
            get("institution") or "",
            get("client") or "",
        )
        if event and found != tuple(columns):
            for (column, key), value in zip(_COLUMNS, columns, strict=True):
                if (event.get(key) or "") != value:
                    self.problems.append(
                        f"entry {seq}: column {column} disagrees with the leaf (edited)"
                    )
        if "seals" in event or "row_digest" in (event.get("detail") or ()):
            for table, row_id, digest in seals_in(event):
                self.seals.setdefault(table, {})[row_id] = (seq, digest)
        if event.get("action") == "ledger.key.create":
            detail = event.get("detail") or {}
            if detail.get("key_id"):
                self.announced_keys[detail["key_id"]] = detail.get("public_key", "")

    def _check_nodes(self, completed: dict[int, tuple[int, int, bytes]]) -> None:
        if not completed:
            return
        # One id range per level (ids of a level are contiguous): a bounded query per chunk.
        spans: dict[int, list[int]] = {}
        for key, (level, _index, _hash) in completed.items():
            span = spans.setdefault(level, [key, key])
            span[0], span[1] = min(span[0], key), max(span[1], key)
        where = Q()
        for low, high in spans.values():
            where |= Q(id__gte=low, id__lte=high)
        stored = dict(LedgerNode.objects.filter(where).values_list("id", "hash"))
        for key, (level, index, expected) in completed.items():
            first, last = index << level, ((index + 1) << level) - 1
            name = f"tile node (level {level}, entries {first}-{last})"
            if key not in stored:
                self.problems.append(f"{name}: missing")
            elif stored[key] != expected.hex():
                self.problems.append(f"{name}: does not match the entries (tampered)")
            self.nodes_checked += 1

    def check_node_count(self) -> None:
        """No stored node may exist that the replay did not produce (forged or out of range)."""
        expected = sum(self.size >> level for level in range(TILE_LEVEL, 64))
        stored = LedgerNode.objects.count()
        if stored != expected:
            self.problems.append(
                f"tile nodes: {stored} stored, {expected} expected for {self.size} entries "
                "(nodes inserted or deleted)"
            )
