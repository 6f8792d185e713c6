"""`careledger report verify FILE [--qr PAYLOAD] [--public-key KEYFILE]` and
`careledger report public-key`, `careledger report prepare-font` (builds the cached cut of the
CJK face that makes prints faster; otherwise the first print starts building it).

`verify` checks a printed report's PDF (decision 0024; `careledger.reports.verify` says what is
checked): the embedded document's hash, the institution's signature, that the pages show what
the document says, and, with `--qr`, that a payload scanned from the paper belongs to it. With
`--qr` and no FILE, only the scanned payload's signature is checked (a paper copy at the desk),
and `recorded_here` says whether this installation's print record has that print and hash.
The keys are the institution's published report keys, from this installation's database, or
from `--public-key` (the JSON `/api/reports/public-key` or `report public-key` prints), so a
partner can check a report without access to the database. Prints the verified facts as JSON;
a tampered or forged report is one line on stderr naming what failed, exit code 1 (2 for
usage errors). Reads nothing about any client and writes nothing: nothing to ledger.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from careledger.reports import fonts, render, verify
from careledger.reports.seal import SealError

KEY_PURPOSE = "report-seal"


def _published_keys(path: str | None) -> dict[str, bytes]:
    if path:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return {k["key_id"]: base64.b64decode(k["public_key"]) for k in data["keys"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                f"--public-key {path}: not a report key file ({type(exc).__name__})",
                returncode=2,
            ) from None
    from careledger.crypto import signing

    return signing.public_keys(KEY_PURPOSE)


def _recorded(print_id: str, digest: str) -> bool | None:
    """Whether this installation recorded that print with that hash (None: no database)."""
    from django.db import DatabaseError

    from careledger.reports.models import ReportPrint

    try:
        return ReportPrint.objects.filter(id=print_id, sha256=digest).exists()
    except DatabaseError:
        return None


class Command(BaseCommand):
    help = "Verify a printed health report (PDF and/or scanned QR), or print the public keys."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="what", required=True)
        check = sub.add_parser("verify", help="verify a report PDF and/or a scanned QR payload")
        check.add_argument("file", nargs="?", help="the report PDF")
        check.add_argument("--qr", help="the text scanned from the report's QR code")
        check.add_argument("--public-key", help="published key JSON (default: this database)")
        check.add_argument(
            "--no-redraw",
            action="store_true",
            help="skip drawing the content again to compare the pages (no CJK font here)",
        )
        sub.add_parser("public-key", help="print the report-signing public keys as JSON")
        sub.add_parser(
            "prepare-font", help="build the cached cut of the CJK face (faster prints; once)"
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["what"] == "prepare-font":
            from django.conf import settings

            try:
                chosen = fonts.choose(
                    settings.CARELEDGER_REPORT_FONT, settings.CARELEDGER_REPORT_FONT_FACE
                )
            except fonts.FontMissing as exc:
                raise CommandError(str(exc), returncode=1) from None
            cache = Path(settings.CARELEDGER_VAR_DIR) / "cache" / "fonts"
            self._out({"font": chosen.name, "cut": str(fonts.build_common_cut(chosen, cache))})
            return
        if options["what"] == "public-key":
            from careledger.crypto import signing

            keys = signing.public_keys(KEY_PURPOSE)
            self._out(
                {
                    "purpose": KEY_PURPOSE,
                    "keys": [
                        {"key_id": k, "public_key": base64.b64encode(v).decode("ascii")}
                        for k, v in sorted(keys.items())
                    ],
                }
            )
            return
        file, qr = options["file"], options["qr"]
        if not file and not qr:
            raise CommandError("name the report PDF, or give --qr", returncode=2)
        keys = _published_keys(options["public_key"])
        try:
            if not file:
                print_id, digest, key_id = verify.verify_qr(qr, keys)
                self._out(
                    {
                        "valid": True,
                        "print_id": print_id,
                        "sha256": digest,
                        "key_id": key_id,
                        "checks": ["signature"],
                        "recorded_here": _recorded(print_id, digest),
                    }
                )
                return
            try:
                raw = Path(file).read_bytes()
            except OSError as exc:
                raise CommandError(f"{file}: {exc.strerror}", returncode=2) from None
            redraw = None
            if not options["no_redraw"]:
                from careledger.reports.services import font as report_font

                font = report_font()

                def redraw(doc, canonical, seal):  # type: ignore[no-untyped-def]
                    return render.render(doc, canonical, seal, font)

            result = verify.verify_pdf(raw, keys, redraw=redraw, renderer=render.RENDERER, qr=qr)
        except (SealError, fonts.FontMissing) as exc:
            raise CommandError(f"NOT VALID: {exc}", returncode=1) from None
        self._out(
            {
                "valid": True,
                "print_id": result.print_id,
                "sha256": result.sha256,
                "key_id": result.key_id,
                "pages": result.pages,
                "printed_at": result.document["print"]["at"],
                "institution": result.document["institution"]["name"],
                "checks": result.checks,
            }
        )

    def _out(self, data: object) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
