"""When a piece of advice applies: alternatives of key sets (pure, no Django).

An item's applicability is a tuple of *groups*; each group is a tuple of keys that must all be
present (AND); the item applies when any group is satisfied (OR). No group at all means the item
is general advice, for everyone. Examples:

    (("tag:hypertension",), ("risk:bp_grade:grade1",))   hypertensive by tag OR by BP grade 1
    (("tag:diabetes", "tag:hypertension"),)              both at once
    ()                                                   general

Written in the catalogue editor as one alternative per line, keys of a group joined with "&":

    tag:hypertension
    tag:diabetes & tag:overweight

Matching is exact on normalised key strings (see `keys`): there are no wildcards or level
ranges, so "moderate or worse" is written as one line per level, and what an item answers is
readable from the item itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from careledger.advice import keys as K

Group = tuple[str, ...]
Applicability = tuple[Group, ...]

GENERAL: Applicability = ()


class InvalidApplicability(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def normalise(raw: Iterable[str | Sequence[str]]) -> Applicability:
    """Validated, canonical applicability: keys normalised, each group sorted and de-duplicated,
    exact duplicate groups removed, groups sorted (shortest first). A bare string is a one-key
    group. `InvalidApplicability` lists every bad key at once."""
    groups: set[Group] = set()
    problems: list[str] = []
    for entry in raw:
        members = [entry] if isinstance(entry, str) else list(entry)
        if not members:
            problems.append("an alternative with no key")
            continue
        group: set[str] = set()
        for member in members:
            try:
                group.add(str(K.parse(member)))
            except K.InvalidKey as exc:
                problems.append(str(exc))
        groups.add(tuple(sorted(group)))
    if problems:
        raise InvalidApplicability(problems)
    return tuple(sorted(groups, key=lambda g: (len(g), g)))


def parse_text(text: str) -> Applicability:
    """The editor's text form: one alternative a line, keys joined by "&" (blank lines and
    lines starting with # ignored). Empty text is general advice."""
    raw: list[list[str]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("&")]
        if any(not p for p in parts):
            problems.append(f"line {number}: an empty key around “&”")
            continue
        bad = []
        for p in parts:
            try:
                K.parse(p)
            except K.InvalidKey as exc:
                bad.append(f"line {number}: {exc}")
        problems.extend(bad)
        if not bad:
            raw.append(parts)
    if problems:
        raise InvalidApplicability(problems)
    return normalise(raw)


def format_text(applies: Applicability) -> str:
    return "\n".join(" & ".join(group) for group in applies)


def is_general(applies: Applicability) -> bool:
    return not applies


def satisfied(applies: Applicability, client_keys: frozenset[str]) -> tuple[Group, ...]:
    """The groups of `applies` the client's keys satisfy (empty: the item does not apply on its
    keys; general items are handled by the assembly, not here)."""
    return tuple(group for group in applies if all(k in client_keys for k in group))


def keys_of(applies: Applicability) -> frozenset[str]:
    """Every key an item mentions (what the editor's key filter searches)."""
    return frozenset(k for group in applies for k in group)
