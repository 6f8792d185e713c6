"""`careledger ledger verify`: recompute everything and name every problem (invariant 4).

Nothing stored is trusted; each stored thing is compared with what the entries imply:

1. the entries themselves, replayed in order (`replay`): leaf hashes, gaps (deleted entries),
   leaves out of place (reordered), columns that disagree with their leaf, the tile nodes;
2. the ledger head row: size, frontier and root against the replay (a rewritten head);
3. signing keys, signed tree heads, their mutual consistency and the witnesses'
   co-signatures (`verify_heads`): forged, re-signed or rewritten heads;
4. the row-seal index and every live row of every sealed table (`verify_rows`): rows changed,
   deleted or inserted behind the application's back.

Each problem names what it is about (entry number, tree size, table and row id), so an
operator can go straight to it. `trusted_keys` pins the signing keys a head may be signed with
(e.g. the key id published to partners), on top of the custody and announcement checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from careledger.ledger import merkle
from careledger.ledger.models import LedgerHead, SignedTreeHead
from careledger.ledger.replay import Replay
from careledger.ledger.verify_heads import check_heads, check_keys
from careledger.ledger.verify_rows import check_rows


@dataclass
class Report:
    size: int = 0
    root: str = ""
    heads: int = 0
    cosignatures: int = 0
    nodes: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_head_row(replay: Replay, problems: list[str]) -> None:
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None:
        if replay.size:
            problems.append("ledger head: missing")
        return
    if head.size < replay.size:
        problems.append(
            f"ledger head: says {head.size} entries, {replay.size} found "
            f"(entries {head.size}-{replay.size - 1} inserted behind the application's back)"
        )
    elif head.size > replay.size:
        problems.append(f"ledger head: says {head.size} entries, only {replay.size} found")
    elif head.root != replay.frontier.root().hex():
        problems.append("ledger head: its root is not the root of the entries (head rewritten)")
    else:
        try:
            stored = merkle.Frontier.from_json(head.frontier)
        except ValueError:
            stored = None
        if stored is None or stored.nodes != replay.frontier.nodes:
            problems.append("ledger head: its frontier does not match the entries (rewritten)")


def verify(*, trusted_keys: set[str] | None = None, rows: bool = True) -> Report:
    report = Report()
    replay = Replay(head_sizes=set(SignedTreeHead.objects.values_list("size", flat=True)))
    replay.run()
    replay.catch_up()
    problems = replay.problems
    _check_head_row(replay, problems)
    replay.check_node_count()
    keys = check_keys(replay, problems, trusted_keys)
    report.heads, report.cosignatures = check_heads(replay, problems, keys, trusted_keys)
    if rows:
        report.rows = check_rows(replay, problems, replay.catch_up)
    report.size = replay.size
    report.root = replay.frontier.root().hex()
    report.nodes = replay.nodes_checked
    report.problems = problems
    return report
