"""Keys and sealed files of the exports: the project pseudonym keys and the export files.

Why its own keys rather than the institution's data key:

* A research project's key makes its pseudonyms and date shifts. It must never change (or the
  cohort is lost) and never be usable for anything else, so it is a random 256-bit key of its
  own, wrapped by the master key (AES-256-GCM, associated data naming institution and project),
  stored only wrapped and opened only in the process that builds the export. Re-wrapped under
  the current master key whenever it is opened (as the ledger's signing key is).
* An export file gets a fresh 256-bit key, wrapped the same way. The file on disk is one
  AES-256-GCM token (the crypto module's format, bound to table, "file" and the request id).
  Expiry deletes the file and blanks the wrapped key: crypto-shredding, so a stray copy of the
  sealed file is noise.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from pathlib import Path

from django.conf import settings

from careledger.crypto import aead, keyring
from careledger.crypto.kms import KEY_BYTES
from careledger.exports.models import ExportRequest, ResearchProject

TABLE = "exports_exportrequest"


class FileGone(Exception):
    """The export file has expired or was purged: its key no longer exists."""


def new_project_key(project: ResearchProject) -> None:
    material = secrets.token_bytes(KEY_BYTES)
    project.key_kek_id, project.key_wrapped = keyring.kms().wrap(material, project.key_aad())


def project_key(project: ResearchProject) -> bytes:
    kms = keyring.kms()
    material = kms.unwrap(project.key_kek_id, bytes(project.key_wrapped), project.key_aad())
    if project.key_kek_id != kms.current_id:
        project.key_kek_id, project.key_wrapped = kms.wrap(material, project.key_aad())
        ResearchProject.objects.filter(pk=project.pk).update(
            key_kek_id=project.key_kek_id, key_wrapped=project.key_wrapped
        )
    return material


def _path(request_id: uuid.UUID) -> Path:
    return Path(settings.CARELEDGER_VAR_DIR) / "exports" / f"{request_id}.sealed"


def _binding(request_id: uuid.UUID) -> aead.Binding:
    return aead.Binding(TABLE, "file", str(request_id))


def seal_file(export: ExportRequest, data: bytes) -> None:
    """Seal `data` under a fresh key, write it, and set the key and digest on `export`."""
    material = secrets.token_bytes(KEY_BYTES)
    token = aead.seal(material, export.id, data, _binding(export.id))
    path = _path(export.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(token)
    tmp.replace(path)
    export.file_kek_id, export.file_key_wrapped = keyring.kms().wrap(
        material, export.file_key_aad()
    )
    export.file_sha256 = hashlib.sha256(data).hexdigest()
    export.file_bytes = len(data)


def open_file(export: ExportRequest) -> bytes:
    wrapped = bytes(export.file_key_wrapped or b"")
    path = _path(export.id)
    if not wrapped or not path.exists():
        raise FileGone(str(export.id))
    material = keyring.kms().unwrap(export.file_kek_id, wrapped, export.file_key_aad())
    data = aead.open_sealed(material, path.read_text(encoding="ascii"), _binding(export.id))
    if hashlib.sha256(data).hexdigest() != export.file_sha256:
        raise aead.DecryptionError("export file does not match its recorded digest")
    return data


def sealed_path(export: ExportRequest) -> Path:
    return _path(export.id)


def purge_file(export: ExportRequest) -> None:
    """Delete the sealed file and forget its key (the caller saves the row)."""
    path = _path(export.id)
    if path.exists():
        path.unlink()
    export.file_key_wrapped = b""
    export.file_kek_id = ""
