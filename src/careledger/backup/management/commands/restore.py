"""`careledger restore FILE`: verify an archive completely, then replace the database and the
stored files with its contents, then check the ledger.

    careledger restore FILE --yes [--no-files] [--skip-ledger-verify]

Without `--yes` nothing is changed (the archive is only verified). A tampered, truncated or
foreign archive, or one whose key the configured KMS cannot unwrap, is refused before anything
is touched. Exit status 1 if the restored ledger does not verify.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careledger.backup import archive, stream
from careledger.request_context import RequestContext, bound, new_request_id


class Command(BaseCommand):
    help = "Verify and restore an encrypted backup archive."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="really replace the data")
        parser.add_argument("--no-files", action="store_true", help="restore the database only")
        parser.add_argument("--skip-ledger-verify", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        with bound(RequestContext(request_id=new_request_id(), channel="cli")):
            try:
                if not options["yes"]:
                    manifest = archive.verify_backup(path)
                    self.stdout.write(
                        json.dumps(
                            {
                                "verified": True,
                                "members": len(manifest["members"]),
                                "restored": False,
                            }
                        )
                    )
                    return
                result = archive.restore_backup(path, include_files=not options["no_files"])
            except stream.ArchiveError as exc:
                raise CommandError(f"archive refused ({exc.code}): {exc}") from exc
            except archive.BackupError as exc:
                raise CommandError(f"restore failed ({exc.code}): {exc}") from exc
            out: dict[str, Any] = {
                "restored": True,
                "members": result.members,
                "files": result.files,
                "tables": result.tables,
                "ledger_size_at_backup": result.ledger_size,
                "erasures_replayed": result.erasures_replayed,
            }
            if not options["skip_ledger_verify"]:
                from careledger.ledger.verify import verify

                report = verify()
                out["ledger_ok"] = report.ok
                if not report.ok:
                    self.stdout.write(json.dumps(out))
                    raise CommandError(f"restored ledger does not verify: {report.problems[:5]}")
            self.stdout.write(json.dumps(out))
