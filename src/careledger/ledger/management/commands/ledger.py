"""`careledger ledger …`: verify the ledger, sign and export tree heads, witnesses, receipts.

    careledger ledger verify [--trusted-key KEY_ID ...] [--skip-rows]
    careledger ledger sign
    careledger ledger public-key
    careledger ledger rotate-key
    careledger ledger export-head [--size N] [--from-size M] > head.json
    careledger ledger import-cosignature FILE
    careledger ledger witness add NAME PUBKEY | witness list | witness keygen FILE
    careledger ledger witness-cosign HEAD_FILE --private-key FILE > cosignature.json
    careledger ledger receipt SEQ > receipt.json
    careledger ledger verify-receipt FILE [--public-key KEY]

`verify` exits 1 and names every problem; `verify-receipt` and `witness-cosign` work offline
(no database). Everything that writes is ledgered.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand, CommandError

from careledger.request_context import RequestContext, bound, new_request_id


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc


def _json_file(path: str) -> Any:
    try:
        return json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not JSON ({exc.msg}, line {exc.lineno})") from exc


def _key_argument(value: str) -> str:
    """A key given inline, or the path of a file holding it."""
    return _read(value) if os.path.isfile(value) else value


class Command(BaseCommand):
    help = "Audit ledger: verify, signed tree heads, witnesses, receipts."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute the ledger and check everything")
        verify.add_argument(
            "--trusted-key", action="append", default=None, help="accept only this key id"
        )
        verify.add_argument(
            "--skip-rows", action="store_true", help="skip the live-row check of sealed tables"
        )
        sub.add_parser("sign", help="sign a tree head now (no-op if nothing was appended)")
        sub.add_parser("public-key", help="print the ledger's public key(s) as JSON")
        sub.add_parser("rotate-key", help="retire the signing key, sign with a new one")
        export = sub.add_parser("export-head", help="print a signed tree head for a witness")
        export.add_argument("--size", type=int, help="an earlier head (default: sign the latest)")
        export.add_argument(
            "--from-size", type=int, help="add a consistency proof from this earlier size"
        )
        imp = sub.add_parser("import-cosignature", help="verify and store a co-signature")
        imp.add_argument("file")
        witness = sub.add_parser("witness", help="register and list witnesses")
        wsub = witness.add_subparsers(dest="witness_action", required=True)
        add = wsub.add_parser("add", help="register a witness's Ed25519 public key")
        add.add_argument("name")
        add.add_argument("public_key", help="base64, hex, PEM, or a file holding one")
        wsub.add_parser("list", help="registered witnesses")
        keygen = wsub.add_parser("keygen", help="make a witness key pair (for a partner)")
        keygen.add_argument("private_key_file")
        cosign = sub.add_parser("witness-cosign", help="co-sign an exported head (witness side)")
        cosign.add_argument("head_file")
        cosign.add_argument("--private-key", required=True, help="PEM file from witness keygen")
        receipt = sub.add_parser("receipt", help="print the receipt of one entry")
        receipt.add_argument("seq", type=int)
        check = sub.add_parser("verify-receipt", help="check a receipt offline")
        check.add_argument("file")
        check.add_argument("--public-key", help="the key you trust: base64, hex, PEM or a file")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        action = options["action"].replace("-", "_")
        with bound(RequestContext(request_id=new_request_id(), channel="cli")):
            getattr(self, f"do_{action}")(options)

    def emit(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))

    # --- verification ------------------------------------------------------------------------

    def do_verify(self, options: dict[str, Any]) -> None:
        from careledger.ledger.verify import verify

        trusted = set(options["trusted_key"]) if options["trusted_key"] else None
        report = verify(trusted_keys=trusted, rows=not options["skip_rows"])
        for problem in report.problems:
            self.stderr.write(f"TAMPERING: {problem}")
        self.stdout.write(
            f"entries: {report.size}  root: {report.root}\n"
            f"tile nodes: {report.nodes}  signed tree heads: {report.heads}  "
            f"co-signatures: {report.cosignatures}  sealed rows: {report.rows}"
        )
        if not report.ok:
            self.stderr.write(f"{len(report.problems)} problem(s) found")
            sys.exit(1)
        self.stdout.write("ledger verified: every entry, tile, head and sealed row agrees")

    def do_verify_receipt(self, options: dict[str, Any]) -> None:
        from careledger.ledger import receipts, sth

        try:
            receipt = receipts.load(_read(options["file"]))
            key = options["public_key"]
            public = sth.parse_public_key(_key_argument(key)) if key else None
        except (ValueError, sth.FormatError) as exc:
            raise CommandError(str(exc)) from exc
        ok, reason = receipts.verify_receipt(receipt, public)
        if not ok:
            self.stderr.write(f"receipt NOT valid: {reason}")
            sys.exit(1)
        self.stdout.write(f"receipt valid: {reason}")

    # --- heads -------------------------------------------------------------------------------

    def do_sign(self, options: dict[str, Any]) -> None:
        from careledger.ledger import heads

        try:
            row = heads.do_sign_head()
        except heads.HeadError as exc:
            raise CommandError(str(exc)) from exc
        self.emit(heads.head_json(row))

    def do_public_key(self, options: dict[str, Any]) -> None:
        from careledger.ledger import heads

        self.emit(heads.public_key_info())

    def do_rotate_key(self, options: dict[str, Any]) -> None:
        from careledger.ledger import heads

        row = heads.do_rotate_key()
        self.stdout.write(f"new signing key {row.key_id}; tree head {row.size} signed with it")

    def do_export_head(self, options: dict[str, Any]) -> None:
        from careledger.ledger import heads, proofs

        try:
            self.emit(heads.export_head(options["size"], options["from_size"]))
        except (heads.HeadError, proofs.ProofError) as exc:
            raise CommandError(str(exc)) from exc

    def do_import_cosignature(self, options: dict[str, Any]) -> None:
        from careledger.ledger import heads

        try:
            result = heads.do_import_cosignature(data=_json_file(options["file"]))
        except heads.HeadError as exc:
            raise CommandError(str(exc)) from exc
        state = "stored" if result.created else "already stored"
        self.stdout.write(
            f"co-signature of witness {result.witness} on tree head {result.size} verified "
            f"and {state}"
        )

    # --- witnesses ---------------------------------------------------------------------------

    def do_witness(self, options: dict[str, Any]) -> None:
        from careledger.ledger import heads
        from careledger.ledger.models import Witness

        sub = options["witness_action"]
        if sub == "add":
            try:
                w = heads.do_add_witness(
                    name=options["name"], public_key=_key_argument(options["public_key"])
                )
            except heads.HeadError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"witness {w.name} registered, key id {w.key_id}")
        elif sub == "list":
            for w in Witness.objects.all():
                self.stdout.write(f"{w.name}\t{w.key_id}\t{w.public_key}")
        else:
            self.witness_keygen(options["private_key_file"])

    def witness_keygen(self, path: str) -> None:
        from careledger.ledger import sth

        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{path} exists: not overwriting a key") from exc
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.stdout.write(f"private key written to {path} (keep it at the witness)")
        self.stdout.write(f"public key: {sth.b64(public)}")

    def do_witness_cosign(self, options: dict[str, Any]) -> None:
        from careledger.ledger import sth
        from careledger.ledger.heads import now_ms

        try:
            private = serialization.load_pem_private_key(
                _read(options["private_key"]).encode(), password=None
            )
        except ValueError as exc:
            raise CommandError("the private key file is not an unencrypted PEM key") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise CommandError("the private key is not an Ed25519 key")
        try:
            self.emit(sth.cosign(_json_file(options["head_file"]), private, now_ms()))
        except sth.FormatError as exc:
            raise CommandError(str(exc)) from exc

    # --- receipts ----------------------------------------------------------------------------

    def do_receipt(self, options: dict[str, Any]) -> None:
        from careledger.ledger import proofs, receipts

        try:
            self.emit(receipts.receipt_for(options["seq"]))
        except proofs.ProofError as exc:
            raise CommandError(str(exc)) from exc
