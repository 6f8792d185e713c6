"""Checking a share offline: what `careledger share verify FILE` runs (pure: no Django).

A share file is the compact JWS a partner fetched. Its payload (`careledger.share/v1`) holds the
FHIR Bundle, the grant, the recipient, and the ledger receipt of the fetch's own entry. The
checks, each reported by name, in order:

1. `signature` — the JWS verifies with the issuing institution's published share key (found by
   the header's `kid` among the keys you trust);
2. `bundle` — the SHA-256 of the Bundle's canonical JSON is the digest the ledger entry
   committed (`detail.bundle_sha256`), and the entry is the fetch of this grant by this
   recipient (so a Bundle from another fetch, or edited, fails here);
3. `inclusion` and `tree_head` — the receipt: the entry's leaf hash leads by the RFC 9162
   inclusion proof to the root of a tree head signed by one of the institution's published
   ledger keys (`ledger.receipts.verify_receipt`, pinned to that key).

The result is valid only if every check passes; the first failure says what was wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from careledger.ledger import merkle, receipts, sth
from careledger.sharing import jws

FORMAT = "careledger.share/v1"


@dataclass
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class Result:
    checks: list[Check] = field(default_factory=list)
    payload: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, message: str) -> bool:
        self.checks.append(Check(name, ok, message))
        return ok


def bundle_digest(bundle: Any) -> str:
    return hashlib.sha256(merkle.canonical_json(bundle)).hexdigest()


def verify_share(token: str, keys: dict[str, dict[str, bytes]]) -> Result:
    """Every check on a share token against the published keys ({purpose: {kid: raw}})."""
    result = Result()
    try:
        header = jws.header_of(token)
    except jws.JwsError as exc:
        result.add("signature", False, str(exc))
        return result
    kid = str(header.get("kid", ""))
    share_key = keys.get(jws.SHARE_PURPOSE, {}).get(kid)
    if share_key is None:
        result.add(
            "signature",
            False,
            f"signed with key {kid[:16]}…, which is not among the institution's published "
            "share keys you gave",
        )
        return result
    try:
        raw = jws.verify(token, share_key)
    except jws.JwsError as exc:
        result.add("signature", False, str(exc))
        return result
    result.add("signature", True, f"JWS {jws.ALGORITHM} signature valid (key {kid[:16]}…)")
    try:
        payload = json.loads(raw)
    except ValueError:
        result.add("bundle", False, "the signed payload is not JSON")
        return result
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        result.add("bundle", False, f"the signed payload is not a {FORMAT} share")
        return result
    result.payload = payload
    receipt = payload.get("ledger_receipt")
    if not isinstance(receipt, dict) or not isinstance(receipt.get("leaf"), str):
        result.add("bundle", False, "the share carries no ledger receipt")
        return result
    try:
        leaf = json.loads(receipt["leaf"])
    except ValueError:
        result.add("bundle", False, "the receipt's leaf is not JSON")
        return result
    detail = leaf.get("detail") or {}
    digest = bundle_digest(payload.get("bundle"))
    resource = leaf.get("resource") or {}
    if leaf.get("action") != "share.fetch" or resource.get("id") != payload.get("grant"):
        result.add("bundle", False, "the ledger entry is not the fetch of this grant")
        return result
    if leaf.get("actor") != payload.get("recipient"):
        result.add("bundle", False, "the ledger entry's actor is not the recipient named")
        return result
    if detail.get("bundle_sha256") != digest:
        result.add("bundle", False, "the Bundle differs from the one the ledger entry committed to")
        return result
    result.add("bundle", True, f"Bundle digest {digest[:16]}… is the one the ledger committed")
    try:
        head = sth.head_from_json(receipt.get("tree_head"))
    except sth.FormatError as exc:
        result.add("tree_head", False, f"malformed tree head: {exc}")
        return result
    ledger_key = keys.get(jws.LEDGER_PURPOSE, {}).get(head.key_id)
    if ledger_key is None:
        result.add(
            "tree_head",
            False,
            f"the tree head was signed by key {head.key_id[:16]}…, which is not among the "
            "institution's published ledger keys you gave",
        )
        return result
    ok, message = receipts.verify_receipt(receipt, ledger_key)
    if not ok:
        name = "tree_head" if "signature" in message or "key" in message else "inclusion"
        result.add(name, False, message)
        return result
    result.add("inclusion", True, f"inclusion proof valid: {message}")
    result.add("tree_head", True, f"tree head signed by published ledger key {head.key_id[:16]}…")
    return result
