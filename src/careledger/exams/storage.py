"""Uploaded report files, sealed at rest (invariant 3: uploaded files are encrypted).

A file is sealed whole with the institution's data key (AES-256-GCM, bound to the job's table,
"file" and the job id, so a sealed file copied to another job fails to open) and written under
`var/imports/`. It is kept after the job so the job can be re-run; a file above the size limit
is refused before anything is written.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings

from careledger.crypto import aead, keyring
from careledger.crypto.models import KeyScope


def max_bytes() -> int:
    return int(settings.CARELEDGER_IMPORT_MAX_MB) * 1024 * 1024


def _path(job_id: uuid.UUID) -> Path:
    return Path(settings.CARELEDGER_VAR_DIR) / "imports" / f"{job_id}.sealed"


def _binding(job_id: uuid.UUID) -> aead.Binding:
    return aead.Binding("exams_importjob", "file", str(job_id))


def save(institution_id: uuid.UUID, job_id: uuid.UUID, data: bytes) -> None:
    key = keyring.current(KeyScope.INSTITUTION, institution_id)
    token = aead.seal(key.material, key.id, data, _binding(job_id))
    path = _path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="ascii") as out:
        out.write(token)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def load(job_id: uuid.UUID) -> bytes:
    token = _path(job_id).read_text(encoding="ascii")
    key = keyring.by_id(aead.key_id_of(token))
    return aead.open_sealed(key, token, _binding(job_id))


def exists(job_id: uuid.UUID) -> bool:
    return _path(job_id).exists()
