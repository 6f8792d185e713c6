"""`careledger import FILE [--source NAME] [--format FMT] --user USERNAME`: import a report
file exactly as the upload page does (same checks, same job, same pipeline, same ledger), run
in the foreground, then print the summary. The user is who the job and the ledger name; they
need the import permission (health manager or institution admin). Exit status 1 when the file is
refused or the job fails, 0 otherwise (quarantined rows are a normal outcome, listed by reason).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from careledger.access.enforce import AccessDenied
from careledger.accounts.models import User
from careledger.exams import services
from careledger.exams.models import JobStatus, SourceFormat


class Command(BaseCommand):
    help = "Import a check-up / lab report file (HL7 v2, FHIR R4 Bundle, CSV, XLSX)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", default="", help="exam centre / laboratory name")
        parser.add_argument(
            "--format",
            default="",
            choices=[c for c, _label in SourceFormat.choices],
            help="default: the source's format, else judged by content",
        )
        parser.add_argument(
            "--user",
            default=os.environ.get("CARELEDGER_CLI_USER", ""),
            help="who imports (default $CARELEDGER_CLI_USER)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path: Path = options["file"]
        if not options["user"]:
            raise CommandError("say who imports: --user USERNAME (or CARELEDGER_CLI_USER)")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            job = services.do_create_import(
                actor=user,
                filename=path.name,
                data=path.read_bytes(),
                source_name=options["source"],
                fmt=options["format"],
                channel="cli",
                enqueue=False,
            )
        except AccessDenied as exc:
            raise CommandError(f"{user.username} may not import reports ({exc})") from exc
        except services.ImportRefused as exc:
            raise CommandError(f"{path.name}: refused ({exc.reason}): {exc.message}") from exc
        job = services.run_import(job.id)
        self._summary(job)
        if job.status == JobStatus.FAILED:
            raise CommandError(f"job {job.id} failed ({job.error_reason}): {job.error_message}")

    def _summary(self, job) -> None:  # type: ignore[no-untyped-def]
        w = self.stdout.write
        w(f"job {job.id}  source {job.source.name}  format {job.format}  encoding {job.encoding}")
        w(f"  status       {job.status}")
        w(f"  reports read {job.units_total}  results read {job.results_read}")
        w(f"  imported     {job.imported} observations in {job.reports_created} new reports")
        w(f"  duplicates   {job.duplicates}")
        w(f"  corrected    {job.corrected}")
        w(f"  quarantined  {job.quarantined}")
        for reason, count in sorted(job.by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            w(f"    {reason:<22} {count}")
        for reason, count in sorted(job.warnings.items()):
            w(f"  noted (landed anyway) {reason}: {count}")
        earlier = services.previous_imports_of_same_file(job)
        if earlier:
            w(f"  (the same file was imported {earlier} time(s) before)")
