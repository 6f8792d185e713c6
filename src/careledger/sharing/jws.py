"""The signed share Bundle: a compact JWS (RFC 7515) with Ed25519, and the published key set.

Pure (joserfc, cryptography, the standard library; no Django), so a recipient can check a share
with nothing of ours but this module and our published keys.

Why JWS and `Ed25519`: a compact JWS is the form every JOSE library reads; the algorithm is the
fully-specified `Ed25519` of RFC 9864 (the successor of the polymorphic `EdDSA`, same signature
bytes), with the institution's share key, which is custodied like the ledger key (wrapped by the
master key, `crypto.signing`, purpose `share-bundle`). The header's `kid` is the key's
fingerprint (SHA-256 of the raw public key, hex), the same id the ledger uses for its keys.

The published key set (`jwks()`) is a JWKS holding the current and retired share keys and the
ledger's tree-head keys, each marked with `careledger_purpose` ("share-bundle" or
"ledger-sth"): a recipient needs both to check a share offline (the Bundle's signature, then
the tree head that proves the fetch is in the ledger).
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "Ed25519"
TYPE = "careledger-share+jws"
SHARE_PURPOSE = "share-bundle"
LEDGER_PURPOSE = "ledger-sth"
PURPOSE_MEMBER = "careledger_purpose"


# joserfc refuses payloads over 128 kB by default (a guard against decompression-style abuse);
# ten years of results is ~1 MB, so the share's own registry allows up to this much.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


def _registry() -> jws.JWSRegistry:
    registry = jws.JWSRegistry(algorithms=[ALGORITHM])
    registry.max_payload_length = MAX_PAYLOAD_BYTES
    return registry


class JwsError(ValueError):
    """A token that is not a compact JWS we can read (as opposed to one that does not verify)."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: bytes, *, private_key: Ed25519PrivateKey, kid: str) -> str:
    key = OKPKey.import_key(private_key)
    header = {"alg": ALGORITHM, "kid": kid, "typ": TYPE, "cty": "json"}
    return jws.serialize_compact(header, payload, key, registry=_registry())


def header_of(token: str) -> dict[str, Any]:
    """The protected header, read without verifying (to find the key by `kid`)."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwsError("not a compact JWS (three base64url parts separated by dots)")
    try:
        header = json.loads(_unb64url(parts[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JwsError("the JWS header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise JwsError("the JWS header is not a JSON object")
    return header


def verify(token: str, public_key: bytes) -> bytes:
    """The payload if the signature verifies with this raw Ed25519 public key; raises
    `JwsError` otherwise (bad signature, wrong algorithm, malformed)."""
    header = header_of(token)
    if header.get("alg") != ALGORITHM:
        raise JwsError(f"the JWS algorithm is {header.get('alg')!r}, not {ALGORITHM}")
    key = OKPKey.import_key(jwk(public_key, purpose=SHARE_PURPOSE))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jws.deserialize_compact(token.strip(), key, registry=_registry()).payload
    except JoseError as exc:
        raise JwsError(f"the JWS signature does not verify ({exc.error})") from exc
    except ValueError as exc:
        raise JwsError(f"the JWS cannot be read ({exc})") from exc


def jwk(public_key: bytes, *, purpose: str, kid: str = "") -> dict[str, Any]:
    from careledger.ledger.sth import key_id

    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(public_key),
        "kid": kid or key_id(public_key),
        "alg": ALGORITHM,
        "use": "sig",
        PURPOSE_MEMBER: purpose,
    }


def jwks(*, share_keys: Mapping[str, bytes], ledger_keys: Mapping[str, bytes]) -> dict[str, Any]:
    keys = [jwk(k, purpose=SHARE_PURPOSE, kid=i) for i, k in share_keys.items()]
    keys += [jwk(k, purpose=LEDGER_PURPOSE, kid=i) for i, k in ledger_keys.items()]
    return {"keys": keys}


def keys_from_jwks(data: Any) -> dict[str, dict[str, bytes]]:
    """{purpose: {kid: raw public key}} from a published key set; `JwsError` if malformed.
    A key whose kid is not its fingerprint is refused (a kid can then not be relabelled)."""
    from careledger.ledger.sth import key_id

    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise JwsError('the key file must be a JWKS: {"keys": [...]}')
    out: dict[str, dict[str, bytes]] = {SHARE_PURPOSE: {}, LEDGER_PURPOSE: {}}
    for item in data["keys"]:
        if not isinstance(item, dict) or item.get("kty") != "OKP" or item.get("crv") != "Ed25519":
            continue
        purpose = item.get(PURPOSE_MEMBER)
        if purpose not in out or not isinstance(item.get("x"), str):
            continue
        try:
            raw = _unb64url(item["x"])
        except ValueError as exc:
            raise JwsError("a key's 'x' is not base64url") from exc
        if len(raw) != 32:
            raise JwsError("an Ed25519 key is 32 bytes")
        if item.get("kid") != key_id(raw):
            raise JwsError("a key's 'kid' is not the SHA-256 fingerprint of the key")
        out[purpose][item["kid"]] = raw
    return out
