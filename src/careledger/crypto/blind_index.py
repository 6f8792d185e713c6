"""Blind index: exact-match search over encrypted identifiers.

HMAC-SHA256 under a per-institution key of its own (scope `blind_index`), over the normalised
value prefixed by what kind of value it is, so that equal values of different kinds (a phone
number that is also typed as a card number) do not collide. The index reveals only equality
within one institution; it cannot be reversed without the key, and two institutions' indexes of
the same person do not match. Normalise with `careledger.clients.identifiers` before indexing.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from careledger.crypto import keyring
from careledger.crypto.models import KeyScope


def digest(key: bytes, kind: str, normalised: str) -> str:
    """Pure part: the index value for an already-normalised input."""
    message = kind.encode() + b"\x00" + normalised.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def blind_index(institution_id: uuid.UUID, kind: str, normalised: str) -> str:
    key = keyring.current(KeyScope.BLIND_INDEX, institution_id)
    return digest(key.material, kind, normalised)
