"""Booking under contention, end to end over HTTP: no overselling, and the latency of a booking.

Builds a throwaway PostgreSQL database (or BENCH_POSTGRES_URL), migrates it, enrols the clients
through the real enrolment service, publishes a package through the real package services with
`--slots` places on two days, and issues an API bearer token for a health manager of the care
team. Then starts the real server (gunicorn, `careledger.wsgi`, DEBUG off) and, over HTTP with
that token, lets the clients compete for the places through `POST /api/clients/{id}/bookings`
(policy, validation, ordered row locks on the capacity rows, ledger append and row seal,
commit):

1. burst: `--clients` clients released at the same instant (a barrier), for day 1;
2. steady: `--clients` other clients at a steady `--rate` requests/s (open loop: request i is
   sent at t0 + i/rate whatever the answers so far), for day 2.

For each leg it prints the bookings made (must be exactly `--slots`), oversells (bookings past
the limit in the database, or 201 answers past it: must be 0), the refusals with their code, and
latency p50/p95 (all answers; and the successful bookings alone). Goal: p95 < 200 ms at 50/s.

    .venv/bin/python benchmarks/booking.py [--clients 200] [--slots 50] [--rate 50]
                                           [--workers 4] [--threads 4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def setup(clients: int, slots: int) -> None:
    """Child process: build the data; print what the load generator needs as one JSON line."""
    import datetime as dt
    import random

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from faker import Faker

    from careledger.accounts.models import ApiToken, User
    from careledger.booking import package_services as ps
    from careledger.clients.services import do_enrol_clients
    from careledger.demo.seed import synthetic_client
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.request_context import RequestContext, bound, new_request_id

    call_command("migrate", verbosity=0)
    with bound(RequestContext(request_id=new_request_id(), channel="cli")):
        inst = Institution.objects.create(code="1001", name="bench")
        dept = Department.objects.create(institution=inst, name="d")
        team = CareTeam.objects.create(institution=inst, department=dept, name="t")
        manager = User.objects.create(username="bench", role="health_manager", institution=inst)
        admin = User.objects.create(username="admin", role="institution_admin", institution=inst)
        CareTeamMembership.objects.create(care_team=team, user=manager)
        fake = Faker("zh_CN")
        fake.seed_instance(7)
        rng = random.Random(7)
        ids: list[str] = []
        while len(ids) < 2 * clients:
            inputs = [synthetic_client(fake, rng, team.id) for _ in range(2 * clients - len(ids))]
            result = do_enrol_clients(actor=manager, inputs=inputs)
            ids += [str(e.client_id) for e in result.enrolled]
        branch = ps.do_create_branch(
            actor=admin, code="B", name="bench", open_weekdays=[1, 2, 3, 4, 5, 6, 7]
        )
        version = ps.do_create_package(
            actor=admin,
            code="p",
            spec=ps.VersionSpec(name="bench", price_fen=59900, branch_ids=[branch.id]),
            items=[ps.ItemSpec(name="心电图")],
        )
        ps.do_publish(actor=admin, version_id=version.id)
        days = [timezone.localdate() + dt.timedelta(days=n) for n in (3, 4)]
        for day in days:  # open whatever the public calendar says (the race is the point)
            ps.do_set_day(actor=admin, day=day, is_open=True)
            ps.do_set_capacity(
                actor=admin,
                branch_id=branch.id,
                package_id=version.package_id,
                start=day,
                end=day,
                limit=slots,
            )
        token = ApiToken.generate()
        ApiToken.objects.create(
            user=manager,
            name="bench",
            digest=ApiToken.hash(token),
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
    print(
        json.dumps(
            {
                "token": token,
                "version": str(version.id),
                "branch": str(branch.id),
                "days": [d.isoformat() for d in days],
                "clients": ids,
            }
        )
    )


def count(day: str) -> None:
    """Child process: what the database holds for one day, as one JSON line."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from careledger.booking.models import Appointment, Capacity

    row = Capacity.objects.get(day=day, package__isnull=False)
    booked = Appointment.objects.filter(day=day, status="booked").count()
    print(json.dumps({"limit": row.limit, "used": row.used, "booked": booked}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited before answering")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit("the server did not answer within a minute")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def run_leg(base: str, data: dict, client_ids: list[str], day: str, rate: float | None) -> list:
    """Send one booking per client; returns (status, code, ms) per request."""
    import httpx

    results: list[tuple[int, str, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(client_ids)) if rate is None else None
    t0 = time.perf_counter() + 1.0
    headers = {"Authorization": f"Bearer {data['token']}"}

    # One client for every thread (it is thread-safe): its pool holds a connection per
    # concurrent request, and the TLS context that each new client builds is made once.
    limits = httpx.Limits(max_connections=len(client_ids), max_keepalive_connections=0)
    http = httpx.Client(base_url=base, headers=headers, timeout=120, limits=limits)
    body = {"version_id": data["version"], "branch_id": data["branch"], "day": day}

    def one(n: int, client_id: str) -> None:
        if barrier is not None:
            barrier.wait()
        else:
            delay = t0 + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        started = time.perf_counter()
        response = http.post(f"/api/clients/{client_id}/bookings", json=body)
        ms = (time.perf_counter() - started) * 1000
        code = "" if response.status_code == 201 else response.json().get("code", "?")
        with lock:
            results.append((response.status_code, code, ms))

    threads = [threading.Thread(target=one, args=(n, c)) for n, c in enumerate(client_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    http.close()
    return results


def report(label: str, results: list, db: dict, slots: int, elapsed: float) -> None:
    made = sum(1 for s, _c, _ms in results if s == 201)
    codes: dict[str, int] = {}
    for status, code, _ms in results:
        if status != 201:
            codes[f"{status} {code}"] = codes.get(f"{status} {code}", 0) + 1
    oversells = max(0, db["booked"] - db["limit"], db["used"] - db["limit"], made - slots)
    every = [ms for _s, _c, ms in results]
    won = [ms for s, _c, ms in results if s == 201]
    print(f"[{label}] {len(results)} requests in {elapsed:.1f} s ({len(results) / elapsed:.1f}/s)")
    print(
        f"[{label}] bookings made: {made} (limit {slots}; database: {db['booked']} booked, "
        f"capacity used {db['used']}/{db['limit']})"
    )
    print(f"[{label}] oversells: {oversells}")
    print(f"[{label}] refused: {codes}")
    print(
        f"[{label}] latency, all answers: p50 {statistics.median(every):.1f} ms, "
        f"p95 {percentile(every, 0.95):.1f} ms, max {max(every):.1f} ms"
    )
    if won:
        print(
            f"[{label}] latency, bookings made: p50 {statistics.median(won):.1f} ms, "
            f"p95 {percentile(won, 0.95):.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        return setup(args.clients, args.slots)
    if args.count:
        return count(args.count)
    with throwaway_env("postgres", f"careledger_bench_booking_{os.getpid()}") as env:
        if env is None:
            return
        env.update({"CARELEDGER_DEBUG": "0", "CARELEDGER_HTTPS": "0", "CARELEDGER_DEMO": "0"})
        env["CARELEDGER_LOG_LEVEL"] = "WARNING"
        me = [sys.executable, __file__]
        print(f"setting up: {2 * args.clients} clients, {args.slots} places on each of two days")
        out = subprocess.run(
            [*me, "--setup", "--clients", str(args.clients), "--slots", str(args.slots)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "careledger.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "-k",
                "gthread",
                "--threads",
                str(args.threads),
                "--backlog",
                "2048",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            wait_ready(base, server)
            clients = data["clients"]
            # Warm every worker (imports, first connection) on a request that books nothing.
            import httpx

            for _ in range(4 * args.workers):
                httpx.get(
                    base + "/api/bookings/desk",
                    headers={"Authorization": f"Bearer {data['token']}"},
                    timeout=30,
                )
            legs = [
                ("burst", clients[: args.clients], data["days"][0], None),
                (f"steady {args.rate:g}/s", clients[args.clients :], data["days"][1], args.rate),
            ]
            for label, ids, day, rate in legs:
                started = time.perf_counter()
                results = run_leg(base, data, ids, day, rate)
                elapsed = time.perf_counter() - started - (1.0 if rate else 0.0)
                db = json.loads(
                    subprocess.run(
                        [*me, "--count", day],
                        env=env,
                        check=True,
                        capture_output=True,
                        text=True,
                        cwd=ROOT,
                    ).stdout
                )
                report(label, results, db, args.slots, elapsed)
        finally:
            server.terminate()
            server.wait(timeout=30)
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        f"; gunicorn {args.workers} workers x {args.threads} threads"
    )


if __name__ == "__main__":
    main()
