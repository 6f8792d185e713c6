"""Audit-ledger throughput and latency at a million entries.

Builds a throwaway database (an SQLite file in a temporary folder, and PostgreSQL when one
answers on 127.0.0.1:5432 or BENCH_POSTGRES_URL is set) and measures, through the real code:

1. append rate, single: one `ledger.record()` per transaction (each one commits);
2. append rate, batched: `ledger.record_many()` in batches, which is also how the log is filled
   to --leaves entries (realistic v2 leaves: actor, role, institution, department, client,
   resource, purpose, request id, IP), with tiles written as appends complete them;
3. `careledger ledger verify` (the `verify()` it runs) over the whole log, with a signed head,
   the tiles and the sealed client rows;
4. inclusion-proof latency at that size (`proofs.inclusion_proof` for random entries, from tiles
   and the database), p50 / p95, and the same for a full receipt (`receipt_for`);
5. the cost of auditing a client read: the real selector `clients.selectors.get_client` (policy,
   query, decryption, ledger append, commit) against the same policy check, ORM queries and
   decryption without the ledger append, interleaved, medians and their ratio.

    .venv/bin/python benchmarks/ledger.py [--leaves 1000000] [--batch 1000] [--single 2000]
                                          [--reads 1000] [--proofs 1000]
                                          [--database sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def run_one(db: str, args: argparse.Namespace) -> None:
    """Runs in a child process so each database gets a fresh Django."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from careledger.access.enforce import require
    from careledger.access.roles import Action
    from careledger.accounts.models import User
    from careledger.clients import selectors
    from careledger.clients.models import Client
    from careledger.clients.services import client_scope, do_enrol_clients
    from careledger.clients.validation import ClientInput
    from careledger.crypto import keyring
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.ledger import heads, proofs
    from careledger.ledger import services as ledger
    from careledger.ledger.receipts import receipt_for
    from careledger.ledger.verify import verify
    from careledger.request_context import RequestContext, bound

    call_command("migrate", verbosity=0)
    rng = random.Random(11)
    label = f"[{db}]"

    # --- a small registry, so that reads are real reads of sealed rows ------------------------
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    doctor = User.objects.create(username="doc", role="doctor", institution=inst)
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    for user in (doctor, manager):
        CareTeamMembership.objects.create(care_team=team, user=user)
    from stdnum.cn import ric

    inputs = []
    for i in range(200):
        birth = dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
        body = f"110101{birth:%Y%m%d}{(i % 500) * 2 + 1:03d}"
        inputs.append(
            ClientInput(
                name="王明" + "伟芳娜敏静"[i % 5],
                sex="M",
                birth_date=birth,
                document_number=body + ric.calc_check_digit(body + "0"),
                phone=f"139{i:08d}",
                address="北京市东城区东华门街道1号",
                care_team_ids=[team.id],
            )
        )
    client_ids = [e.client_id for e in do_enrol_clients(actor=manager, inputs=inputs).enrolled]

    actor = ledger.Actor(
        id=str(uuid.uuid4()), role="doctor", institution_id=str(inst.id), department=str(dept.id)
    )
    fake_clients = [str(uuid.uuid4()) for _ in range(5000)]

    def ctx() -> RequestContext:
        return RequestContext(
            request_id=uuid.uuid4().hex, channel="web", ip=f"10.0.{rng.randrange(256)}.7"
        )

    # --- 1. single appends -------------------------------------------------------------------
    started = time.perf_counter()
    for i in range(args.single):
        with bound(ctx()):
            ledger.record(
                actor=actor,
                action="client.view",
                purpose="care",
                client_id=fake_clients[i % len(fake_clients)],
                resource_type="Client",
                resource_id=fake_clients[i % len(fake_clients)],
            )
    single = args.single / (time.perf_counter() - started)
    print(f"{label} append, one event per transaction: {single:,.0f} events/s ({args.single:,})")

    # --- 2. batched appends, filling the log to --leaves -------------------------------------
    target = args.leaves - proofs.tree_size()
    started = time.perf_counter()
    done = 0
    while done < target:
        n = min(args.batch, target - done)
        with bound(ctx()):
            ledger.record_many(
                actor=actor,
                action="client.list",
                client_ids=[fake_clients[(done + j) % len(fake_clients)] for j in range(n)],
                purpose="care",
                details=[{"page": 1}] * n,
            )
        done += n
    elapsed = time.perf_counter() - started
    print(
        f"{label} append, batches of {args.batch:,}: {done / elapsed:,.0f} events/s "
        f"({done:,} events in {elapsed:.1f} s)"
    )
    heads.do_sign_head()
    size = proofs.tree_size()

    # --- 3. verify ---------------------------------------------------------------------------
    started = time.perf_counter()
    report = verify()
    elapsed = time.perf_counter() - started
    assert report.ok, report.problems[:5]
    print(
        f"{label} verify {report.size:,} leaves ({report.nodes:,} tile nodes, {report.heads} "
        f"signed heads, {report.rows} sealed rows): {elapsed:.1f} s"
    )

    # --- 4. proofs ---------------------------------------------------------------------------
    samples = []
    for _ in range(args.proofs):
        seq = rng.randrange(size)
        t0 = time.perf_counter()
        proofs.inclusion_proof(seq, size)
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95 = percentiles(samples)
    print(
        f"{label} inclusion proof at {size:,} leaves: p50 {p50:.2f} ms, p95 {p95:.2f} ms "
        f"({args.proofs} proofs)"
    )
    samples = []
    for _ in range(min(args.proofs, 300)):
        seq = rng.randrange(size)
        t0 = time.perf_counter()
        receipt_for(seq)
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95 = percentiles(samples)
    print(f"{label} receipt (leaf + proof + signed head): p50 {p50:.2f} ms, p95 {p95:.2f} ms")

    # --- 5. audited read vs the same read without the ledger ----------------------------------
    def unaudited(client_id: uuid.UUID) -> object:
        client = Client.objects.select_related("enrolled_by").get(pk=client_id)
        decision = require(doctor, Action.CLIENT_VIEW, client_scope(client), purpose="care")
        with transaction.atomic():
            keyring.preload([client], selectors._SEALED_DETAIL)
            cards = selectors._active_cards([client])
            summary = selectors._summary(
                client,
                cards.get(client.id),
                selectors._team_names([client]).get(client.id, ()),
                decision.mask_identifiers,
                timezone.localdate(),
            )
            _ = (client.address, client.emergency_contact_name, client.emergency_contact_phone)
        return summary

    for client_id in client_ids[:20]:  # warm caches for both paths
        selectors.get_client(doctor, client_id)
        unaudited(client_id)
    with_ledger, without = [], []
    for _ in range(args.reads):
        client_id = rng.choice(client_ids)
        for fn, bucket in ((selectors.get_client, with_ledger), (unaudited, without)):
            with bound(ctx()):
                t0 = time.perf_counter()
                fn(doctor, client_id) if fn is selectors.get_client else fn(client_id)
                bucket.append((time.perf_counter() - t0) * 1000)
    audited_ms = statistics.median(with_ledger)
    plain_ms = statistics.median(without)
    print(
        f"{label} client read, median of {args.reads}: audited {audited_ms:.2f} ms, "
        f"without the ledger {plain_ms:.2f} ms: +{audited_ms - plain_ms:.2f} ms, "
        f"ratio {audited_ms / plain_ms:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    legs = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for leg in legs:
        with throwaway_env(leg, f"careledger_bench_ledger_{os.getpid()}") as env:
            if env is None:
                continue
            env["CARELEDGER_LOG_LEVEL"] = "WARNING"
            passed = [
                f"--{name}={getattr(args, name)}"
                for name in ("leaves", "batch", "single", "reads", "proofs")
            ]
            subprocess.run(
                [sys.executable, __file__, "--child", leg, *passed],
                env=env,
                check=True,
                cwd=ROOT,
            )


if __name__ == "__main__":
    main()
