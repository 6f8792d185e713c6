"""Recompute the ledger from its entries and compare with the stored head.

Finds: an entry whose leaf text was edited (its hash no longer matches), a deleted or inserted
entry (a gap or a surplus in the sequence, or a root that no longer matches), entries swapped
(the root changes), and a head rewritten to cover any of those (the frontier and root are
recomputed from scratch, not trusted). Signed tree heads, which also catch a consistent rewrite of
entries *and* head, come with the security-core issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from careledger.ledger import merkle
from careledger.ledger.models import LedgerEntry, LedgerHead

CHUNK = 5000


@dataclass
class Report:
    size: int = 0
    root: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> Report:
    report = Report()
    frontier = merkle.Frontier()
    expected_seq = 0
    last = -1
    while True:
        batch = list(
            LedgerEntry.objects.filter(seq__gt=last)
            .order_by("seq")
            .values_list("seq", "leaf", "leaf_hash")[:CHUNK]
        )
        if not batch:
            break
        for seq, leaf, stored_hash in batch:
            if seq != expected_seq:
                report.problems.append(f"entry {expected_seq} is missing (next is {seq})")
                expected_seq = seq
            computed = merkle.leaf_hash(leaf.encode("utf-8"))
            if computed.hex() != stored_hash:
                report.problems.append(f"entry {seq}: leaf does not match its hash (edited)")
            frontier.append(computed)
            expected_seq += 1
            last = seq
    report.size = frontier.size
    report.root = frontier.root().hex()
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None:
        if frontier.size:
            report.problems.append("ledger head is missing")
        return report
    if head.size != frontier.size:
        report.problems.append(f"head says {head.size} entries, {frontier.size} found")
    if head.root != report.root:
        report.problems.append("recomputed root differs from the head's root")
    return report
