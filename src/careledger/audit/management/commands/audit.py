"""`careledger audit scan [--hours N]`: run the anomaly rules over the last complete hours."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from careledger.audit.scan import scan


class Command(BaseCommand):
    help = "Oversight tools: the anomaly scan."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("scan", help="apply the anomaly rules to recent complete hours")
        run.add_argument("--hours", type=int, default=2)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        raised = scan(hours=options["hours"])
        self.stdout.write(f"anomaly scan over {options['hours']} h: {raised} new alert(s)")
