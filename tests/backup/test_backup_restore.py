"""Backup → wipe → restore → `ledger verify` → data compare, on whichever database the suite
runs on (SQLite by default, PostgreSQL when DATABASE_URL points at one); and a tampered or
foreign archive refused before anything is touched."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careledger.backup import archive, stream
from careledger.crypto import keyring
from careledger.ledger.verify import verify
from conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def var(settings, tmp_path):  # type: ignore[no-untyped-def]
    root = tmp_path / "var"
    (root / "imports").mkdir(parents=True)
    settings.CARELEDGER_VAR_DIR = root
    settings.CARELEDGER_KEY_FILE = root / "master.key"
    (root / "master.key").write_text("never in a backup\n")
    (root / "secret_key").write_text("never in a backup either\n")
    (root / "imports" / "job.sealed").write_text("v1.sealed-upload-token")
    return root


@pytest.fixture(autouse=True)
def _pg_tools():  # type: ignore[no-untyped-def]
    if connection.vendor == "postgresql" and not (
        shutil.which("pg_dump") and shutil.which("pg_restore")
    ):
        pytest.skip("pg_dump/pg_restore are not installed: PostgreSQL backup cannot be tested")


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table (what 'the data' is for the comparison)."""
    out = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.django_table_names(only_existing=True)):
            cursor.execute(f'SELECT * FROM "{table}"')
            rows = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r))
                          for r in cursor.fetchall())  # fmt: skip
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def populate() -> World:
    world = World()
    for _ in range(3):
        world.enrol()
    return world


def test_backup_wipe_restore_verifies_and_gives_back_the_same_data(var, tmp_path):  # type: ignore[no-untyped-def]
    populate()
    before = fingerprint()
    result = archive.create_backup(tmp_path / "b.clbk")
    assert result.path.exists() and result.path.stat().st_mode & 0o077 == 0
    raw = result.path.read_bytes()
    assert b"never in a backup" not in raw and b"sealed-upload-token" not in raw
    for value in ("张三明", "浙江省杭州市西湖区文三路100号"):  # the enrolled clients' identifiers
        assert value.encode() not in raw

    manifest = archive.verify_backup(result.path)
    names = {m["name"] for m in manifest["members"]}
    assert "files/imports/job.sealed" in names
    assert not any("master.key" in n or "secret_key" in n for n in names)

    call_command("flush", interactive=False, verbosity=0)  # the wipe
    (var / "imports" / "job.sealed").unlink()
    assert fingerprint() != before

    call_command("restore", str(result.path), "--yes", stdout=io.StringIO())
    keyring.clear_cache()
    report = verify()
    assert report.ok, report.problems
    after = fingerprint()
    # The restore itself appends one ledger event (and moves the head); everything else is
    # exactly as it was at backup time.
    changed = {t for t in before if before[t] != after.get(t)}
    assert changed <= {"ledger_ledgerentry", "ledger_ledgerhead", "ledger_ledgernode"}, changed
    assert (var / "imports" / "job.sealed").read_text() == "v1.sealed-upload-token"


def test_a_tampered_archive_is_refused_and_nothing_is_restored(var, tmp_path):  # type: ignore[no-untyped-def]
    populate()
    result = archive.create_backup(tmp_path / "b.clbk")
    blob = bytearray(result.path.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    bad = tmp_path / "bad.clbk"
    bad.write_bytes(bytes(blob))
    before = fingerprint()
    with pytest.raises(CommandError, match="archive refused \\(tampered\\)"):
        call_command("restore", str(bad), "--yes")
    assert fingerprint() == before


def test_an_archive_needs_the_kek_that_wrapped_it(var, tmp_path, settings):  # type: ignore[no-untyped-def]
    import base64
    import secrets

    populate()
    result = archive.create_backup(tmp_path / "b.clbk")
    settings.CARELEDGER_MASTER_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    keyring.clear_cache()
    with pytest.raises(stream.ArchiveError) as refused:
        archive.verify_backup(result.path)
    assert refused.value.code == "key_unavailable"


def test_backup_command_prints_where_it_wrote(var, tmp_path, capsys):  # type: ignore[no-untyped-def]
    populate()
    out = Path(tmp_path / "c.clbk")
    call_command("backup", "--output", str(out))
    assert '"path"' in capsys.readouterr().out
    call_command("backup", "verify", str(out))
    assert '"ok": true' in capsys.readouterr().out


def test_a_client_erased_after_the_backup_stays_erased_after_restoring_it(var, tmp_path):  # type: ignore[no-untyped-def]
    from careledger.clients.models import Client
    from careledger.crypto.models import DataKey
    from careledger.retention import services as retention

    world = populate()
    member = world.enrol()
    result = archive.create_backup(tmp_path / "b.clbk")
    request = retention.do_request_erasure(
        actor=world.manager, client_id=member.client_id, ground="client_request"
    )
    retention.do_decide_erasure(actor=world.admin, request_id=request.id, approve=True)
    restored = archive.restore_backup(result.path)
    assert restored.erasures_replayed == 1
    assert Client.objects.get(pk=member.client_id).status == "erased"
    assert not DataKey.objects.filter(owner_id=member.client_id, destroyed_at__isnull=True).exists()
    report = verify()
    assert report.ok, report.problems
