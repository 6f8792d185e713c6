"""The archive format without a database: round trip, and every kind of damage refused."""

from __future__ import annotations

import io
import os

import pytest

from careledger.backup import stream

KEY = os.urandom(32)


def build(members: dict[str, bytes], *, chunk: int = 64, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    header = stream.new_header(archive_id="a1", kek_id="k1", wrapped_key=b"w" * 40)
    header["chunk_size"] = chunk
    writer = stream.ArchiveWriter(out, archive_key=key, header=header)
    for name, data in members.items():
        writer.add_stream(name, io.BytesIO(data))
    writer.close(note="test")
    return out.getvalue()


def read(blob: bytes, *, key: bytes = KEY) -> tuple[dict, dict[str, bytes]]:
    source = io.BytesIO(blob)
    header, header_bytes = stream.read_header(source)
    got: dict[str, io.BytesIO] = {}

    class Sink(io.BytesIO):
        def close(self) -> None:  # keep the bytes readable after extract closes it
            pass

    def sink(name: str) -> io.BytesIO:
        got[name] = Sink()
        return got[name]

    manifest = stream.extract(
        source, archive_key=key, header=header, header_bytes=header_bytes, sink=sink
    )
    return manifest, {k: v.getvalue() for k, v in got.items()}


MEMBERS = {"database/db": os.urandom(1000), "files/a/b.sealed": b"x" * 300, "files/empty": b""}


def test_round_trip_keeps_every_member_and_lists_its_digest() -> None:
    manifest, got = read(build(MEMBERS))
    assert got == MEMBERS
    assert manifest["note"] == "test"
    assert {m["name"]: m["size"] for m in manifest["members"]} == {
        k: len(v) for k, v in MEMBERS.items()
    }


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    blob = build({"files/x": b"ZHANG-SAN-13900000000" * 10})
    assert b"ZHANG-SAN" not in blob


def offsets(blob: bytes) -> list[tuple[int, int]]:
    """(start, end) of each chunk record."""
    source = io.BytesIO(blob)
    stream.read_header(source)
    spans = []
    while True:
        start = source.tell()
        raw = source.read(4)
        if len(raw) < 4:
            return spans
        length = int.from_bytes(raw, "big")
        source.seek(length, 1)
        spans.append((start, source.tell()))


def refused(blob: bytes, *, key: bytes = KEY) -> str:
    with pytest.raises(stream.ArchiveError) as exc:
        read(blob, key=key)
    return exc.value.code


def test_a_flipped_bit_anywhere_in_the_body_is_refused() -> None:
    blob = bytearray(build(MEMBERS))
    start, _end = offsets(bytes(blob))[3]
    blob[start + 10] ^= 1
    assert refused(bytes(blob)) == "tampered"


def test_an_edited_header_is_refused() -> None:
    blob = build(MEMBERS)
    edited = blob.replace(b'"archive_id":"a1"', b'"archive_id":"a2"')
    assert edited != blob
    assert refused(edited) == "tampered"


def test_truncation_reordering_and_trailing_data_are_refused() -> None:
    blob = build(MEMBERS)
    spans = offsets(blob)
    assert len(spans) > 4
    assert refused(blob[: spans[-1][0]]) == "truncated"  # final chunk dropped
    a, b = spans[1], spans[2]
    swapped = blob[: a[0]] + blob[b[0] : b[1]] + blob[a[0] : a[1]] + blob[b[1] :]
    assert refused(swapped) == "tampered"
    assert refused(blob + b"\x00\x00\x00\x01x") == "trailing_data"


def test_the_wrong_key_opens_nothing() -> None:
    assert refused(build(MEMBERS), key=os.urandom(32)) == "tampered"


def test_not_an_archive_and_unsafe_names_are_refused() -> None:
    assert refused(b"PK\x03\x04 a zip file") == "not_an_archive"
    for name in ("../etc/passwd", "/abs", "a//b", "a/./b", "a\\b"):
        with pytest.raises(stream.ArchiveError):
            build({name: b"x"})
