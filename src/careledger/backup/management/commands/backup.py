"""`careledger backup`: write an encrypted, integrity-checked archive of the database and the
stored files (see `careledger.backup.archive`).

    careledger backup [--output FILE] [--no-files]
    careledger backup verify FILE      # decrypt and check everything, restore nothing
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careledger.backup import archive, stream
from careledger.request_context import RequestContext, bound, new_request_id


class Command(BaseCommand):
    help = "Write an encrypted backup archive (database and stored files), or verify one."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("action", nargs="?", choices=["create", "verify"], default="create")
        parser.add_argument("file", nargs="?", help="the archive to verify")
        parser.add_argument("--output", help="where to write (default var/backups/…clbk)")
        parser.add_argument("--no-files", action="store_true", help="the database only")

    def handle(self, *args: Any, **options: Any) -> None:
        with bound(RequestContext(request_id=new_request_id(), channel="cli")):
            if options["action"] == "verify":
                if not options["file"]:
                    raise CommandError("careledger backup verify FILE")
                try:
                    manifest = archive.verify_backup(Path(options["file"]))
                except stream.ArchiveError as exc:
                    raise CommandError(f"archive refused ({exc.code}): {exc}") from exc
                summary = {
                    "ok": True,
                    "members": len(manifest["members"]),
                    "database": manifest.get("database"),
                    "created_at": manifest.get("created_at"),
                    "ledger_size": manifest.get("ledger", {}).get("size"),
                }
                self.stdout.write(json.dumps(summary, ensure_ascii=False))
                return
            try:
                result = archive.create_backup(
                    Path(options["output"]) if options["output"] else None,
                    include_files=not options["no_files"],
                )
            except archive.BackupError as exc:
                raise CommandError(f"backup failed ({exc.code}): {exc}") from exc
            self.stdout.write(
                json.dumps(
                    {
                        "path": str(result.path),
                        "archive_id": result.archive_id,
                        "bytes": result.size,
                        "sha256": result.sha256,
                        "members": result.members,
                        "tables": result.tables,
                    }
                )
            )
