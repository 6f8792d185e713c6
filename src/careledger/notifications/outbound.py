"""The outbound check (出站敏感信息检测): what the gateway asks before any message leaves.

`check()` runs the pure detectors (`careledger.notifications.sensitive`) over the rendered
text and looks the name candidates up among the *other* clients of the recipient's institution
through the name blind index: each candidate is HMAC'd with the institution's name-index key
and all of them are matched in one set query (`name_index IN (…)`), so no client's name is ever
decrypted and the cost does not grow with the registry (decision 0025). The policy,
`CARELEDGER_OUTBOUND_POLICY`, decides what a finding does: `block` (the default: nothing
leaves, the refusal is ledgered) or `warn` (the message goes, its findings are ledgered and a
warning with kinds only is logged). The gateway ledgers every message with its findings as
kinds, spans and client ids, never the values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings

from careledger.clients import indexing
from careledger.clients.models import Client
from careledger.notifications import sensitive

BLOCK = "block"
WARN = "warn"
POLICIES = (BLOCK, WARN)
_CHUNK = 500


@dataclass(frozen=True)
class Verdict:
    policy: str
    findings: list[sensitive.Finding] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.findings) and self.policy == BLOCK

    def audit(self) -> list[dict[str, object]]:
        return [f.audit() for f in self.findings]

    def kinds(self) -> dict[str, int]:
        return sensitive.kinds(self.findings)


def policy() -> str:
    chosen = settings.CARELEDGER_OUTBOUND_POLICY
    if chosen not in POLICIES:
        raise ValueError(f"CARELEDGER_OUTBOUND_POLICY must be one of {POLICIES}, not {chosen!r}")
    return chosen


def _institution_of(client_id: str) -> uuid.UUID | None:
    try:
        pk = uuid.UUID(str(client_id))
    except ValueError:
        return None  # no client (or not one of ours): other clients' names cannot be told
    return Client.objects.filter(pk=pk).values_list("institution_id", flat=True).first()


def other_clients_named(institution_id: uuid.UUID, recipient: str) -> sensitive.NameLookup:
    """A lookup: candidates → the id of another client of the institution bearing that name."""

    def lookup(candidates: set[str]) -> dict[str, str]:
        by_index = {indexing.name_index(institution_id, c): c for c in candidates}
        hits: dict[str, str] = {}
        keys = list(by_index)
        for start in range(0, len(keys), _CHUNK):
            rows = (
                Client.objects.filter(
                    institution_id=institution_id, name_index__in=keys[start : start + _CHUNK]
                )
                .exclude(pk=recipient or None)
                .values_list("name_index", "id")
            )
            for index, client_id in rows:
                hits.setdefault(by_index[index], str(client_id))
        return hits

    return lookup


def check(*, text: str, client_id: str = "", fixed: str = "") -> Verdict:
    """The findings in `text` (a message to `client_id`'s phone) under the configured policy.
    Without a client, other clients' names cannot be told (no institution): not checked."""
    institution_id = _institution_of(client_id)
    names = None if institution_id is None else other_clients_named(institution_id, client_id)
    return Verdict(policy(), sensitive.scan(text, names=names, fixed=fixed))
