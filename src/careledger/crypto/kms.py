"""Key-encryption keys (KEKs) and the KMS adapter that holds them.

The default adapter keeps 256-bit KEKs either in `CARELEDGER_MASTER_KEY` (comma-separated,
base64url, newest first) or, when that is unset, in a key file created with mode 0600 on first
run (one key per line, newest first). A KEK never encrypts data directly: it only wraps data keys
(DEKs), so rotating it means re-wrapping a few thousand small DEKs, not re-encrypting the database.
A Vault-transit or cloud-KMS adapter only needs `wrap`/`unwrap`/`current_id`.

Key ids are fingerprints of the key (not secrets, not positions), so reordering the list or
moving a key from the file to the environment keeps every wrapped DEK readable.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class KeyError_(Exception):
    """A key is missing, malformed or does not open what it was asked to open."""


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def kek_id(key: bytes) -> str:
    return hashlib.sha256(b"careledger-kek\x00" + key).hexdigest()[:16]


def parse_keys(text: str) -> list[bytes]:
    keys = []
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    for item in ",".join(lines).split(","):
        item = item.strip()
        if not item:
            continue
        try:
            key = b64d(item)
        except ValueError as exc:
            raise KeyError_("a master key is not valid base64url") from exc
        if len(key) != KEY_BYTES:
            raise KeyError_(f"a master key must be {KEY_BYTES} bytes, got {len(key)}")
        keys.append(key)
    return keys


@dataclass
class LocalKms:
    """KEKs held in process memory; `keys[0]` is the current one."""

    keys: list[bytes]
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyError_("no master key configured")
        self._by_id = {kek_id(k): k for k in self.keys}

    @property
    def current_id(self) -> str:
        return kek_id(self.keys[0])

    def known_ids(self) -> list[str]:
        return [kek_id(k) for k in self.keys]

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        return self.current_id, nonce + AESGCM(self.keys[0]).encrypt(nonce, dek, aad)

    def unwrap(self, key_id: str, wrapped: bytes, aad: bytes) -> bytes:
        key = self._by_id.get(key_id)
        if key is None:
            raise KeyError_(f"master key {key_id} is not configured")
        try:
            return AESGCM(key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise KeyError_(f"wrapped key does not open under master key {key_id}") from exc

    def add_new_key(self) -> str:
        """Generate a new current KEK (file-backed only); the old ones stay for unwrapping."""
        if self.key_file is None:
            raise KeyError_(
                "master keys come from CARELEDGER_MASTER_KEY: put the new key first in that "
                "variable and run `careledger keys rotate` again to re-wrap under it"
            )
        key = secrets.token_bytes(KEY_BYTES)
        self.keys.insert(0, key)
        self._by_id[kek_id(key)] = key
        write_key_file(self.key_file, self.keys)
        return kek_id(key)


def write_key_file(path: Path, keys: list[bytes]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# CareLedger master keys (KEKs), newest first. Keep this file secret.\n")
        handle.writelines(b64e(k) + "\n" for k in keys)
    os.replace(tmp, path)


def load_kms(env_value: str, key_file: Path) -> LocalKms:
    if env_value.strip():
        return LocalKms(parse_keys(env_value))
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process won the race
            write_key_file(key_file, [secrets.token_bytes(KEY_BYTES)])
    mode = key_file.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyError_(f"key file {key_file} must not be readable by others (mode {mode:o})")
    return LocalKms(parse_keys(key_file.read_text()), key_file=key_file)
