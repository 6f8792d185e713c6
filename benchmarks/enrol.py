"""Enrolment throughput and identifier-search latency at scale.

Builds a throwaway database (SQLite file in a temporary folder, and PostgreSQL when one answers
on 127.0.0.1:5432 or BENCH_POSTGRES_URL is set), enrols N synthetic clients through the real
batch enrolment service (validation, blind indexes, per-client data keys, sealed fields, cards,
revisions, ledger events), then times searches by ID number and by phone through the real search
selector (policy check, blind-index lookup, decryption of the hit, ledger events).

    .venv/bin/python benchmarks/enrol.py [--clients 100000] [--searches 1000]
                                           [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def run_one(db: str, clients: int, searches: int, batch: int) -> None:
    """Runs in a child process so each database gets a fresh Django."""
    import django
    from stdnum.cn import ric

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command

    from careledger.accounts.models import User
    from careledger.clients.selectors import search_clients
    from careledger.clients.services import do_enrol_clients
    from careledger.clients.validation import ClientInput
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution

    call_command("migrate", verbosity=0)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    user = User.objects.create(username="bench", role="health_manager", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=user)

    rng = random.Random(7)
    people = []
    for i in range(clients):
        birth = dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28)
        sex = "M" if i % 2 else "F"
        seq = (i % 500) * 2 + (1 if sex == "M" else 0)
        # (birth date, sequence) repeats only every 10,500 clients; a new region every 6,000
        body = f"{110101 + i // 6000:06d}{birth:%Y%m%d}{seq:03d}"
        people.append((body + ric.calc_check_digit(body + "0"), birth, sex, f"13{i:09d}"))
    inputs = [
        ClientInput(
            name=SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + GIVEN[i % len(GIVEN)],
            sex=sex,
            birth_date=birth,
            document_number=number,
            phone=phone,
            address="北京市东城区东华门街道1号",
            membership_level="standard",
            care_team_ids=[team.id],
        )
        for i, (number, birth, sex, phone) in enumerate(people)
    ]
    started = time.perf_counter()
    enrolled = rejected = 0
    for start in range(0, len(inputs), batch):
        result = do_enrol_clients(actor=user, inputs=inputs[start : start + batch])
        enrolled += len(result.enrolled)
        rejected += len(result.rejected)
        if result.rejected and rejected == len(result.rejected):
            print("  rejected:", result.rejected[0].errors, file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(
        f"[{db}] enrolled {enrolled:,} clients in {elapsed:.1f} s: "
        f"{enrolled / elapsed:,.0f} enrolments/s (batches of {batch}; {rejected} rejected)"
    )

    def timed(queries: list[str]) -> tuple[float, float]:
        samples = []
        for q in queries:
            t0 = time.perf_counter()
            rows = search_clients(user, q)
            samples.append((time.perf_counter() - t0) * 1000)
            assert len(rows) == 1, (q, len(rows))
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]

    picks = [people[rng.randrange(len(people))] for _ in range(searches)]
    for label, queries in (("ID number", [p[0] for p in picks]), ("phone", [p[3] for p in picks])):
        p50, p95 = timed(queries)
        print(
            f"[{db}] search by {label} over {enrolled:,} clients: p50 {p50:.2f} ms, "
            f"p95 {p95:.2f} ms ({searches} searches)"
        )


def postgres_url() -> str | None:
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        return url
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False)
    return "postgres://postgres@127.0.0.1:5432/postgres" if probe.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args.clients, args.searches, args.batch)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    legs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for leg in legs:
        env = dict(os.environ)
        env["CARELEDGER_MASTER_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        tmp = tempfile.mkdtemp(prefix="careledger-bench-")
        env["CARELEDGER_VAR_DIR"] = tmp
        dbname = ""
        if leg == "sqlite":
            env.pop("DATABASE_URL", None)
        else:
            base = postgres_url()
            if base is None:
                print("[postgres] skipped: no PostgreSQL on 127.0.0.1:5432")
                continue
            dbname = f"careledger_bench_{os.getpid()}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=True)
            env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + dbname
        try:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    leg,
                    "--clients",
                    str(args.clients),
                    "--searches",
                    str(args.searches),
                    "--batch",
                    str(args.batch),
                ],
                env=env,
                check=True,
                cwd=ROOT,
            )
        finally:
            if dbname:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", dbname], check=False)


if __name__ == "__main__":
    main()
