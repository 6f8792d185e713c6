"""`careledger ledger verify`: recompute every leaf hash and the root; exit 1 on tampering."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from careledger.ledger.verify import verify


class Command(BaseCommand):
    help = "Audit-ledger tools."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="recompute the ledger and compare with its head")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        report = verify()
        for problem in report.problems:
            self.stderr.write(f"TAMPERING: {problem}")
        self.stdout.write(f"entries: {report.size}  root: {report.root}")
        if report.ok:
            self.stdout.write("ledger verified: every entry matches and the root agrees")
        else:
            sys.exit(1)
