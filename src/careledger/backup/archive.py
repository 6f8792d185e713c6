"""`careledger backup` and `careledger restore`: the database and stored files, encrypted.

What goes in: the database (PostgreSQL through `pg_dump --format=custom`, streamed straight
into the archive; SQLite through its online backup API, which copies a consistent snapshot
while the application keeps running) and every stored file under the var dir except what must
never travel with the data or is rebuilt anyway: the master key file (KEK), the Django secret
key, the broker queue, collected static files, the demo outbox, earlier backups and the live
SQLite files themselves (they are in the snapshot).

Keys: each archive has its own random 256-bit key, wrapped by the current KEK through the KMS
adapter (`crypto.keyring.kms()`) with associated data naming the archive; only the wrapped key
is in the header. Restoring therefore needs the KEK (from its own, separate custody: the key
file or `CARELEDGER_MASTER_KEY`), and an archive copied off the machine is unreadable without
it. Client data keys are inside the database, themselves wrapped by the KEK, so a client erased
by crypto-shredding stays erased in every backup taken after the erasure.

Restore verifies before it touches anything: the whole archive is decrypted into a private
staging directory (mode 0700, removed afterwards), every chunk tag, the manifest's MAC and each
member's SHA-256 checked; only then is the database replaced (`pg_restore --clean
--single-transaction`, or the SQLite backup API in the other direction) and the files put back.
Afterwards the row count of every table is compared with the manifest's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from careledger.backup import stream
from careledger.crypto import keyring
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, LedgerHead

SUFFIX = ".clbk"
SQLITE_MEMBER = "database/careledger.sqlite3"
PG_MEMBER = "database/careledger.pgdump"
FILES = "files/"
# Top-level entries of the var dir that never go into a backup.
EXCLUDED_TOP = frozenset({"broker", "staticfiles", "outbox", "backups", "secret_key", "tmp"})
EXCLUDED_SUFFIXES = (
    ".sqlite3",
    ".sqlite3-wal",
    ".sqlite3-shm",
    ".sqlite3-journal",
    ".part",
    ".tmp",
)


class BackupError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


def var_dir() -> Path:
    return Path(settings.CARELEDGER_VAR_DIR)


def _wrap_aad(archive_id: str) -> bytes:
    return f"careledger-backup\x00{archive_id}".encode()


def _vendor() -> str:
    return connection.vendor


@contextmanager
def _private_dir(prefix: str) -> Iterator[Path]:
    base = var_dir() / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))  # mkdtemp makes it 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def stored_files() -> list[tuple[str, Path]]:
    """(archive name, path) of every file under the var dir that is backed up."""
    root = var_dir().resolve()
    key_file = Path(settings.CARELEDGER_KEY_FILE).resolve()
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in EXCLUDED_TOP]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if (
                path.resolve() == key_file
                or name.endswith(EXCLUDED_SUFFIXES)
                or (here == root and name in EXCLUDED_TOP)
                or name == "master.key"
                or path.is_symlink()
            ):
                continue
            out.append((FILES + rel, path))
    return out


def _count(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (introspected names)
        counts[table] = cursor.fetchone()[0]
    return counts


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return _count(cursor, _tables())


def _ledger_state(cursor: Any) -> dict[str, Any]:
    cursor.execute(f"SELECT size, root FROM {LedgerHead._meta.db_table} WHERE id = 1")  # noqa: S608
    row = cursor.fetchone()
    return {"size": row[0] if row else 0, "root": row[1] if row else ""}


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if s.get(key):
            env[var] = str(s[key])
    return env


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError("tool_missing", f"{name} is not installed (needed for PostgreSQL)")
    return path


@dataclass(frozen=True)
class Snapshot:
    """What the manifest says about the database, read from the very snapshot backed up."""

    tables: dict[str, int]
    ledger: dict[str, Any]


def _add_database(writer: stream.ArchiveWriter, scratch: Path) -> Snapshot:
    tables = _tables()
    if _vendor() == "sqlite":
        target = scratch / "snapshot.sqlite3"
        connection.ensure_connection()
        dest = sqlite3.connect(target)
        try:
            connection.connection.backup(dest)
            cursor = dest.cursor()
            snapshot = Snapshot(_count(cursor, tables), _ledger_state(cursor))
        finally:
            dest.close()
        writer.add_file(SQLITE_MEMBER, target)
        return snapshot
    if _vendor() == "postgresql":
        if connection.in_atomic_block:
            # pg_dump is another session: it could not see this transaction's writes, and the
            # counts could not share its snapshot. A backup runs on its own (the CLI does).
            raise BackupError("in_transaction", "run the backup outside any open transaction")
        # One exported snapshot for the counts and for pg_dump, so they describe the same data
        # however busy the database is (needs to run outside any open transaction).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            snapshot = Snapshot(_count(cursor, tables), _ledger_state(cursor))
            args = [
                _require_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot_id}",
                "--dbname",
                str(connection.settings_dict["NAME"]),
            ]
            # A fixed argument list (no shell); the database name comes from the settings.
            with subprocess.Popen(  # noqa: S603
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_pg_env()
            ) as proc:
                assert proc.stdout is not None
                writer.add_stream(PG_MEMBER, proc.stdout)  # type: ignore[arg-type]
                errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise BackupError("pg_dump_failed", errors.strip()[:500])
        return snapshot
    raise BackupError("unsupported_database", f"no backup method for {_vendor()}")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    archive_id: str
    size: int
    sha256: str
    members: int
    tables: int


def default_path() -> Path:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return var_dir() / "backups" / f"careledger-{stamp}{SUFFIX}"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def create_backup(output: Path | None = None, *, include_files: bool = True) -> BackupResult:
    path = Path(output) if output else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    archive_id = str(uuid.uuid4())
    archive_key = os.urandom(stream.KEY_BYTES)
    kek_id, wrapped = keyring.kms().wrap(archive_key, _wrap_aad(archive_id))
    header = stream.new_header(
        archive_id=archive_id,
        kek_id=kek_id,
        wrapped_key=wrapped,
        created_at=timezone.now().isoformat(timespec="seconds"),
        database=_vendor(),
    )
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, _private_dir("backup-") as scratch:
            writer = stream.ArchiveWriter(out, archive_key=archive_key, header=header)
            snapshot = _add_database(writer, scratch)
            counts, state = snapshot.tables, snapshot.ledger
            files = stored_files() if include_files else []
            for name, file_path in files:
                writer.add_file(name, file_path)
            manifest = writer.close(
                database=_vendor(), tables=counts, ledger=state, created_at=header["created_at"]
            )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    digest = _sha256_file(path)
    with transaction.atomic():
        ledger.record(
            actor=ledger.SYSTEM,
            action="backup.create",
            purpose="backup",
            resource_type="Backup",
            resource_id=archive_id,
            detail={
                "sha256": digest,
                "members": len(manifest["members"]),
                "ledger_size": state["size"],
                "database": _vendor(),
            },
        )
    return BackupResult(
        path, archive_id, path.stat().st_size, digest, len(manifest["members"]), len(counts)
    )


def _open_archive(source: BinaryIO) -> tuple[dict[str, Any], bytes, bytes]:
    header, header_bytes = stream.read_header(source)
    try:
        wrapped = base64.b64decode(header["wrapped_key"])
        archive_key = keyring.kms().unwrap(
            str(header["kek_id"]), wrapped, _wrap_aad(str(header["archive_id"]))
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise stream.ArchiveError("bad_header") from exc
    except Exception as exc:  # the KMS says the key is not configured or does not open it
        raise stream.ArchiveError("key_unavailable", str(exc)) from exc
    return header, header_bytes, archive_key


def verify_backup(path: Path) -> dict[str, Any]:
    """Decrypt and check everything without writing anything; returns the manifest."""
    with open(path, "rb") as source:
        header, header_bytes, key = _open_archive(source)
        return stream.extract(source, archive_key=key, header=header, header_bytes=header_bytes)


def _stage(path: Path, staging: Path) -> dict[str, Any]:
    def sink(name: str) -> BinaryIO:
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")

    with open(path, "rb") as source:
        header, header_bytes, key = _open_archive(source)
        return stream.extract(
            source, archive_key=key, header=header, header_bytes=header_bytes, sink=sink
        )


def _restore_sqlite(staged: Path) -> None:
    # Into the open connection (no close: an in-memory database would vanish with it).
    connection.ensure_connection()
    src = sqlite3.connect(staged)
    try:
        src.backup(connection.connection)
    finally:
        src.close()


def _restore_postgresql(staged: Path) -> None:
    connection.close()
    args = [
        _require_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        str(connection.settings_dict["NAME"]),
        str(staged),
    ]
    done = subprocess.run(args, capture_output=True, env=_pg_env(), check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError("pg_restore_failed", done.stderr.decode(errors="replace").strip()[:500])


@dataclass(frozen=True)
class RestoreResult:
    archive_id: str
    created_at: str
    members: int
    files: int
    tables: int
    ledger_size: int
    erasures_replayed: int = 0


SHREDDING = ("retention.erasure.execute", "retention.anonymise")


def _shredded_since(size: int) -> list[tuple[str, str]]:
    """Clients erased or anonymised in the live ledger after the backup was taken (by the
    backup's ledger size): a restore must not bring their data keys back."""
    try:
        rows = (
            LedgerEntry.objects.filter(seq__gte=size, action__in=SHREDDING)
            .exclude(client_id="")
            .order_by("seq")
            .values_list("client_id", "action")
        )
        return list(rows)
    except DatabaseError:  # nothing live to read (a wiped or fresh database)
        return []


def _replay_shredding(found: list[tuple[str, str]]) -> int:
    from careledger.retention import services as retention

    done = 0
    for client_id, action in found:
        if action == "retention.anonymise":
            done += retention.do_anonymise(client_id=uuid.UUID(client_id))
        else:
            done += retention.do_replay_erasure(client_id=uuid.UUID(client_id))
    return done


def restore_backup(path: Path, *, include_files: bool = True) -> RestoreResult:
    """Verify the archive completely, then replace the database and the stored files; then
    erase again whoever was erased after the backup was taken."""
    with _private_dir("restore-") as staging:
        manifest = _stage(path, staging)  # raises ArchiveError before anything is touched
        replay = _shredded_since(int(manifest.get("ledger", {}).get("size", 0)))
        vendor = manifest.get("database")
        if vendor != _vendor():
            raise BackupError("database_mismatch", f"archive holds {vendor}, this is {_vendor()}")
        if vendor == "sqlite":
            _restore_sqlite(staging / SQLITE_MEMBER)
        else:
            _restore_postgresql(staging / PG_MEMBER)
        restored_files = 0
        if include_files:
            root = var_dir()
            for member in manifest["members"]:
                name = member["name"]
                if not name.startswith(FILES):
                    continue
                target = root / name[len(FILES) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".part")
                shutil.copyfile(staging / name, tmp)
                os.replace(tmp, target)
                restored_files += 1
    keyring.clear_cache()
    counts = table_counts()
    expected = manifest.get("tables", {})
    differing = sorted(t for t, n in expected.items() if counts.get(t) != n)
    if differing:
        raise BackupError("row_count_mismatch", f"tables differ after restore: {differing[:10]}")
    state = manifest.get("ledger", {})
    replayed = _replay_shredding(replay)
    with transaction.atomic():
        ledger.record(
            actor=ledger.SYSTEM,
            action="backup.restore",
            purpose="backup",
            resource_type="Backup",
            resource_id=str(manifest.get("archive_id", "")),
            detail={
                "members": len(manifest["members"]),
                "ledger_size": state.get("size", 0),
                "erasures_replayed": replayed,
            },
        )
    return RestoreResult(
        archive_id=str(path.name),
        created_at=str(manifest.get("created_at", "")),
        members=len(manifest["members"]),
        files=restored_files,
        tables=len(counts),
        ledger_size=int(state.get("size", 0)),
        erasures_replayed=replayed,
    )
