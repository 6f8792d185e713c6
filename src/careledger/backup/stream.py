"""The backup archive format: a streamed, chunked AES-256-GCM container with a MACed manifest.
Pure: no Django (the archive key comes from the caller, who wraps it with the KEK).

Layout of a `.clbk` file:

    MAGIC (5 bytes) | header length (4, big-endian) | header (canonical JSON, in the clear)
    then chunks:    ciphertext length (4) | AES-256-GCM(chunk)   … until the final chunk

The header names the archive id, the KEK id and the archive key wrapped under it (never the
KEK), the chunk size and the nonce prefix; its SHA-256 is the associated data of every chunk,
so a header edited to point at another key or id makes every chunk fail. Chunks follow the
STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption
and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015): nonce = prefix (7) ‖ counter (4) ‖
last-flag (1), so reordered, dropped, duplicated or truncated chunks are all detected, and
nothing after the final chunk is accepted. Memory stays at one chunk whatever the size.

Inside the encrypted stream, records `type (1) | length (8) | payload`:
`F` starts a member (JSON {"name"}), `D` carries its bytes, `M` is the manifest (canonical JSON:
every member's name, size and SHA-256, plus what the caller adds) and `S` its HMAC-SHA256 under
a key derived from the archive key by HKDF (a different key from the encryption key). The
reader checks, in order: magic, header, every chunk tag, the manifest MAC, that every member
is listed with the right size and digest and nothing listed is missing, and that member names
are plain relative paths (no `..`, no absolute path), before the caller restores anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CLBK\x01"
FORMAT = 1
CHUNK_SIZE = 1 << 20
KEY_BYTES = 32
PREFIX_BYTES = 7
MAX_HEADER = 64 * 1024
_LEN = struct.Struct(">I")
_REC = struct.Struct(">cQ")


class ArchiveError(Exception):
    """The archive is not one of ours, or was damaged or tampered with. `code` says where."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _derive(archive_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(archive_key)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= 1 << 32:
        raise ArchiveError("too_many_chunks")
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if (
        not name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
        or "\\" in name
        or "\x00" in name
    ):
        raise ArchiveError("unsafe_member_name", f"unsafe member name {name!r}")
    return name


def new_header(*, archive_id: str, kek_id: str, wrapped_key: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "archive_id": archive_id,
        "kek_id": kek_id,
        "wrapped_key": base64.b64encode(wrapped_key).decode("ascii"),
        "chunk_size": CHUNK_SIZE,
        "nonce_prefix": base64.b64encode(os.urandom(PREFIX_BYTES)).decode("ascii"),
        **extra,
    }


class ArchiveWriter:
    """Write members one after another, then `close()` with the manifest's extra fields."""

    def __init__(self, out: BinaryIO, *, archive_key: bytes, header: dict[str, Any]) -> None:
        if len(archive_key) != KEY_BYTES:
            raise ValueError("the archive key must be 32 bytes")
        self._out = out
        header_bytes = canonical(header)
        self._aad = hashlib.sha256(header_bytes).digest()
        self._aead = AESGCM(_derive(archive_key, b"careledger-backup-encrypt"))
        self._mac_key = _derive(archive_key, b"careledger-backup-manifest")
        self._prefix = base64.b64decode(header["nonce_prefix"])
        self._chunk = int(header["chunk_size"])
        self._counter = 0
        self._buffer = bytearray()
        self._members: list[dict[str, Any]] = []
        self._names: set[str] = set()
        self.bytes_written = 0
        self._emit(MAGIC + _LEN.pack(len(header_bytes)) + header_bytes)

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self.bytes_written += len(data)

    def _seal(self, plain: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), plain, self._aad)
        self._counter += 1
        self._emit(_LEN.pack(len(sealed)) + sealed)

    def _write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > self._chunk:  # keep at least one byte back for the last chunk
            self._seal(bytes(self._buffer[: self._chunk]), last=False)
            del self._buffer[: self._chunk]

    def _record(self, kind: bytes, payload: bytes) -> None:
        self._write(_REC.pack(kind, len(payload)))
        self._write(payload)

    def add_stream(self, name: str, source: BinaryIO) -> dict[str, Any]:
        name = safe_name(name)
        if name in self._names:
            raise ValueError(f"member {name!r} added twice")
        self._names.add(name)
        self._record(b"F", canonical({"name": name}))
        digest, size = hashlib.sha256(), 0
        while block := source.read(self._chunk):
            digest.update(block)
            size += len(block)
            self._record(b"D", block)
        entry = {"name": name, "size": size, "sha256": digest.hexdigest()}
        self._members.append(entry)
        return entry

    def add_file(self, name: str, path: str | os.PathLike[str]) -> dict[str, Any]:
        with open(path, "rb") as source:
            return self.add_stream(name, source)

    def close(self, **extra: Any) -> dict[str, Any]:
        manifest = {"members": self._members, **extra}
        body = canonical(manifest)
        self._record(b"M", body)
        self._record(b"S", hmac.new(self._mac_key, body, hashlib.sha256).digest())
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        return manifest


def read_header(source: BinaryIO) -> tuple[dict[str, Any], bytes]:
    if source.read(len(MAGIC)) != MAGIC:
        raise ArchiveError("not_an_archive", "not a CareLedger backup (bad magic)")
    raw = source.read(_LEN.size)
    if len(raw) != _LEN.size:
        raise ArchiveError("truncated")
    (length,) = _LEN.unpack(raw)
    if length > MAX_HEADER:
        raise ArchiveError("bad_header")
    header_bytes = source.read(length)
    try:
        header = json.loads(header_bytes)
    except ValueError:
        raise ArchiveError("bad_header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArchiveError("unsupported_format")
    return header, header_bytes


def _plain_chunks(
    source: BinaryIO, archive_key: bytes, header: dict[str, Any], header_bytes: bytes
) -> Iterator[bytes]:
    aead = AESGCM(_derive(archive_key, b"careledger-backup-encrypt"))
    aad = hashlib.sha256(header_bytes).digest()
    prefix = base64.b64decode(header["nonce_prefix"])
    limit = int(header["chunk_size"]) + 16
    counter = 0
    while True:
        raw = source.read(_LEN.size)
        if len(raw) != _LEN.size:
            raise ArchiveError("truncated", "the archive ends before its final chunk")
        (length,) = _LEN.unpack(raw)
        if length > limit:
            raise ArchiveError("bad_chunk")
        sealed = source.read(length)
        if len(sealed) != length:
            raise ArchiveError("truncated")
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, counter, last), sealed, aad)
            except InvalidTag:
                continue
            break
        else:
            raise ArchiveError("tampered", f"chunk {counter} fails authentication")
        counter += 1
        yield plain
        if last:
            if source.read(1):
                raise ArchiveError("trailing_data", "data after the final chunk")
            return


class _Records:
    """Records out of the decrypted chunk stream, read exactly."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._done = False

    def _need(self, n: int) -> bool:
        while len(self._buf) < n and not self._done:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                self._done = True
        return len(self._buf) >= n

    def take(self, n: int) -> bytes:
        if not self._need(n):
            raise ArchiveError("truncated")
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def next(self) -> tuple[bytes, bytes] | None:
        if not self._need(1):
            return None
        kind, length = _REC.unpack(self.take(_REC.size))
        return kind, self.take(length)

    def finished(self) -> bool:
        return not self._need(1)


def extract(
    source: BinaryIO,
    *,
    archive_key: bytes,
    header: dict[str, Any],
    header_bytes: bytes,
    sink: Callable[[str], BinaryIO] | None = None,
) -> dict[str, Any]:
    """Decrypt and check the whole archive, writing members to `sink(name)` (or nowhere).
    Returns the manifest; raises `ArchiveError` on any problem (the caller then restores
    nothing: what the sink received is to be discarded)."""
    records = _Records(_plain_chunks(source, archive_key, header, header_bytes))
    mac_key = _derive(archive_key, b"careledger-backup-manifest")
    seen: dict[str, dict[str, Any]] = {}
    current: tuple[str, Any, Any, int] | None = None  # name, digest, handle, size
    manifest_body = b""

    def finish() -> None:
        nonlocal current
        if current is not None:
            name, digest, handle, size = current
            if handle is not None:
                handle.close()
            seen[name] = {"name": name, "size": size, "sha256": digest.hexdigest()}
            current = None

    while (record := records.next()) is not None:
        kind, payload = record
        if kind == b"F":
            finish()
            name = safe_name(json.loads(payload)["name"])
            if name in seen:
                raise ArchiveError("duplicate_member")
            current = (name, hashlib.sha256(), sink(name) if sink else None, 0)
        elif kind == b"D":
            if current is None:
                raise ArchiveError("bad_record")
            name, digest, handle, size = current
            digest.update(payload)
            if handle is not None:
                handle.write(payload)
            current = (name, digest, handle, size + len(payload))
        elif kind == b"M":
            finish()
            manifest_body = payload
        elif kind == b"S":
            if not manifest_body:
                raise ArchiveError("bad_record")
            expected = hmac.new(mac_key, manifest_body, hashlib.sha256).digest()
            if not hmac.compare_digest(expected, payload):
                raise ArchiveError("manifest_mac", "the manifest's MAC does not match")
            if not records.finished():
                raise ArchiveError("trailing_data")
            manifest = json.loads(manifest_body)
            listed = {m["name"]: m for m in manifest.get("members", [])}
            if listed != seen:
                raise ArchiveError("member_mismatch", "members differ from the manifest")
            return manifest
        else:
            raise ArchiveError("bad_record")
    raise ArchiveError("truncated", "the archive has no signed manifest")
