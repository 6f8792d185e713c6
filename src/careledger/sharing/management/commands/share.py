"""`careledger share …`: check a share offline, publish the keys to check it with.

    careledger share verify FILE [--keys JWKS_FILE]   # exit 0 valid, 1 not valid, 2 unreadable
    careledger share keys > jwks.json                   # this institution's published keys

`verify` needs no database when `--keys` is given (the recipient's case: the JWKS downloaded from
the issuer's `/fhir/R4/.well-known/jwks.json`); without it, it uses this installation's own
published keys (the issuer checking a share it made). It prints one line per check and the
verdict; the partner, grant, patient and resource counts of a valid share, never its content.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Client-controlled sharing: verify a signed share offline; print the published keys."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check a share file (JWS) offline")
        verify.add_argument("file")
        verify.add_argument("--keys", help="the issuer's published JWKS (jwks.json)")
        sub.add_parser("keys", help="print this institution's published keys (JWKS)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "keys":
            from careledger.sharing.services import published_keys

            self.stdout.write(json.dumps(published_keys(), indent=2))
            return
        self.verify(options)

    def verify(self, options: dict[str, Any]) -> None:
        from careledger.sharing import jws
        from careledger.sharing.verify import verify_share

        try:
            token = Path(options["file"]).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}", returncode=2) from exc
        try:
            if options.get("keys"):
                keys = jws.keys_from_jwks(json.loads(Path(options["keys"]).read_text("utf-8")))
                source = f"keys from {options['keys']}"
            else:
                from careledger.sharing.services import published_keys

                keys = jws.keys_from_jwks(published_keys())
                source = "this installation's published keys"
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the keys: {exc}", returncode=2) from exc
        result = verify_share(token, keys)
        self.stdout.write(f"checking against {source}")
        for check in result.checks:
            mark = "ok  " if check.ok else "FAIL"
            self.stdout.write(f"  [{mark}] {check.name}: {check.message}")
        if not result.ok:
            failed = next(c for c in result.checks if not c.ok)
            self.stderr.write(f"share NOT verified: {failed.name} — {failed.message}")
            sys.exit(1)
        payload = result.payload or {}
        entries = len((payload.get("bundle") or {}).get("entry") or [])
        self.stdout.write(
            f"share verified: grant {payload.get('grant')} for partner {payload.get('recipient')}, "
            f"patient {payload.get('patient')}, {entries} resources, issued "
            f"{payload.get('issued_at')} by {payload.get('issuer', {}).get('name', '')}"
        )
