"""Backup and restore throughput: `careledger backup`, `backup verify` and `restore` through the
real code on a throwaway database holding N enrolled clients (each with a data key, sealed
fields, a card, a revision and a ledger event) plus a sealed upload file of --file-mb MB.

Prints, per database: database and archive sizes, and the time (and MB/s of archive) to write,
to verify, and to restore (verify + replace + row-count check, then `ledger verify` timed apart).

    .venv/bin/python benchmarks/backup.py [--clients 20000] [--file-mb 50]
                                          [--database sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def run_one(db: str, args: argparse.Namespace) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from careledger.accounts.models import User
    from careledger.backup import archive
    from careledger.clients.services import do_enrol_clients
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.ledger.verify import verify
    from conftest import client_input

    call_command("migrate", verbosity=0)
    label = f"[{db}]"
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)
    for start in range(0, args.clients, 1000):
        batch = [client_input(team) for _ in range(min(1000, args.clients - start))]
        do_enrol_clients(actor=manager, inputs=batch)
    uploads = Path(settings.CARELEDGER_VAR_DIR) / "imports"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "bench.sealed").write_bytes(os.urandom(args.file_mb * 1024 * 1024))
    if db == "sqlite":
        db_bytes = Path(connection.settings_dict["NAME"]).stat().st_size
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            db_bytes = cursor.fetchone()[0]
    out = Path(settings.CARELEDGER_VAR_DIR) / "bench.clbk"

    t0 = time.perf_counter()
    result = archive.create_backup(out)
    t_backup = time.perf_counter() - t0
    mb = result.size / 1e6
    t0 = time.perf_counter()
    archive.verify_backup(out)
    t_verify = time.perf_counter() - t0
    t0 = time.perf_counter()
    archive.restore_backup(out)
    t_restore = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = verify()
    t_ledger = time.perf_counter() - t0
    assert report.ok, report.problems[:5]
    print(
        f"{label} {args.clients} clients, database {db_bytes / 1e6:.1f} MB, file {args.file_mb} MB"
    )
    print(f"{label} archive {mb:.1f} MB, {result.members} members")
    print(f"{label} backup  {t_backup:6.2f} s  ({mb / t_backup:6.1f} MB/s)")
    print(f"{label} verify  {t_verify:6.2f} s  ({mb / t_verify:6.1f} MB/s)")
    print(
        f"{label} restore {t_restore:6.2f} s  ({mb / t_restore:6.1f} MB/s),"
        f" then ledger verify {t_ledger:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20000)
    parser.add_argument("--file-mb", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args)
        return
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]},"
        f" load {os.getloadavg()[0]:.2f}"
    )
    legs = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for leg in legs:
        with throwaway_env(leg, f"careledger_bench_backup_{os.getpid()}") as env:
            if env is None:
                continue
            env["CARELEDGER_LOG_LEVEL"] = "WARNING"
            passed = [f"--clients={args.clients}", f"--file-mb={args.file_mb}"]
            subprocess.run(
                [sys.executable, __file__, "--child", leg, *passed], env=env, check=True, cwd=ROOT
            )


if __name__ == "__main__":
    main()
