"""Report import throughput (CSV, HL7 v2, FHIR) and the trend view, through the real code.

For each database (a throwaway SQLite file, and PostgreSQL when one answers on 127.0.0.1:5432
or BENCH_POSTGRES_URL is set): enrol --clients clients through the enrolment service, write
one file per format with --reports check-up reports of ~40 results each for random clients
(the identifiers an exam centre would send), and time `careledger import`'s own path
(`do_create_import` + `run_import`: parse, match through the blind index, normalise, land,
ledger, seal) for each file: observations imported per second. Then give one client 10 annual
check-ups of every catalogue indicator and time `observations.selectors.client_trends` (policy,
one query, statistics, ledger append) --views times: p50 / p95.

    .venv/bin/python benchmarks/import.py [--clients 100000] [--reports 5000]
                                          [--hl7-reports 2000] [--fhir-reports 1000]
                                          [--views 200] [--database sqlite|postgres|both]

BENCH_PROFILE=csv|hl7v2|fhir prints a cProfile of that format's import (the figure is then slower).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent
NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海燕鹏飞宇晨浩然子轩"
PANEL = [  # (code, unit, mean, sd) as an exam centre sends them: ~40 results per report
    ("8480-6", "mmHg", 128, 15),
    ("8462-4", "mmHg", 80, 9),
    ("29463-7", "kg", 66, 10),
    ("8302-2", "cm", 165, 8),
    ("2345-7", "mmol/L", 5.4, 0.8),
    ("4548-4", "%", 5.7, 0.5),
    ("2093-3", "mmol/L", 4.9, 0.8),
    ("2571-8", "mmol/L", 1.5, 0.6),
    ("2085-9", "mmol/L", 1.3, 0.3),
    ("18262-6", "mmol/L", 2.9, 0.7),
    ("1742-6", "U/L", 25, 10),
    ("2160-0", "umol/L", 75, 15),
    ("3084-1", "umol/L", 340, 70),
    ("6690-2", "10*9/L", 6.2, 1.5),
    ("718-7", "g/L", 140, 14),
    ("777-3", "10*9/L", 230, 50),
    ("2823-3", "mmol/L", 4.1, 0.3),
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _panel(rng: random.Random) -> list[tuple[str, str, str]]:
    from careledger.observations import catalogue

    rows = [(c, u, f"{max(m * 0.5, rng.gauss(m, s)):.2f}") for c, u, m, s in PANEL]
    extra = [
        i
        for i in catalogue.all_indicators()
        if i.kind == "quantity" and i.code not in dict.fromkeys(c for c, *_ in PANEL)
    ]
    for ind in rng.sample(extra, min(len(extra), 40 - len(rows))):
        band = catalogue.reference_range(ind, sex="M", age=50)
        if band is None or band.high is None:
            continue
        low = float(band.low or 0)
        rows.append((ind.code, ind.unit_display, f"{rng.uniform(low, float(band.high)):.2f}"))
    return rows


def _people(rng: random.Random, ids: list[tuple[str, str]], count: int):  # type: ignore[no-untyped-def]
    for i in range(count):
        number, name = rng.choice(ids)
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(300))
        yield i, number, name, day, _panel(rng)


def csv_file(rng: random.Random, ids: list[tuple[str, str]], count: int) -> bytes:
    if not count:
        return b""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["体检号", "身份证号", "姓名", "体检日期", "项目代码", "结果", "单位"])
    for i, number, name, day, panel in _people(rng, ids, count):
        for code, unit, value in panel:
            w.writerow([f"C{i:07d}", number, name, day.isoformat(), code, value, unit])
    return out.getvalue().encode("utf-8")


def _hl7(text: str) -> str:
    """Text as an HL7 v2 field value: the delimiters escaped, as a sending system writes them
    (a unit such as "×10^9/L" would otherwise split into components at its "^")."""
    for char, escape in (
        ("\\", "\\E\\"),
        ("|", "\\F\\"),
        ("^", "\\S\\"),
        ("&", "\\T\\"),
        ("~", "\\R\\"),
    ):
        text = text.replace(char, escape)
    return text


def hl7_file(rng: random.Random, ids: list[tuple[str, str]], count: int) -> bytes:
    if not count:
        return b""
    messages = []
    for i, number, name, day, panel in _people(rng, ids, count):
        ts = day.strftime("%Y%m%d") + "0830"
        segs = [
            f"MSH|^~\\&|LIS|BENCH|CARELEDGER|1001|{ts}||ORU^R01|M{i}|P|2.5.1|||||CHN|UNICODE UTF-8",
            f"PID|1||{number}^^^^NI||{name}",
            f"OBR|1|P{i}|H{i:07d}|CHECKUP^体检||{ts}|{ts}",
        ]
        for n, (code, unit, value) in enumerate(panel, start=1):
            segs.append(f"OBX|{n}|NM|{code}^^LN||{_hl7(value)}|{_hl7(unit)}|||||F|||{ts}")
        messages.append("\r".join(segs))
    return ("\r\n".join(messages) + "\r").encode("utf-8")


def fhir_file(rng: random.Random, ids: list[tuple[str, str]], count: int) -> bytes:
    if not count:
        return b""
    entries = []
    for i, number, _name, day, panel in _people(rng, ids, count):
        pid = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        entries.append(
            {
                "fullUrl": pid,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:oid:2.16.156.10011.1.3", "value": number}],
                },
            }
        )
        refs = []
        for n, (code, unit, value) in enumerate(panel):
            url = f"urn:uuid:00000000-0000-4000-9{n:03d}-{i:012d}"
            refs.append({"reference": url})
            entries.append(
                {
                    "fullUrl": url,
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                        "subject": {"reference": pid},
                        "effectiveDateTime": f"{day.isoformat()}T08:30:00+08:00",
                        # FHIR has no empty strings: a unitless result carries no unit.
                        "valueQuantity": {
                            "value": float(value),
                            **({"unit": unit} if unit else {}),
                        },
                    },
                }
            )
        entries.append(
            {
                "fullUrl": f"urn:uuid:00000000-0000-4000-a000-{i:012d}",
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "identifier": [{"value": f"F{i:07d}"}],
                    "status": "final",
                    "code": {"text": "体检"},
                    "subject": {"reference": pid},
                    "effectiveDateTime": f"{day.isoformat()}T08:30:00+08:00",
                    "result": refs,
                },
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def run_one(db: str, args: argparse.Namespace) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command
    from stdnum.cn import ric

    from careledger.accounts.models import User
    from careledger.clients.models import Client
    from careledger.clients.services import do_enrol_clients
    from careledger.clients.validation import ClientInput
    from careledger.crypto import keyring
    from careledger.exams import services
    from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds
    from careledger.exams.pipeline import land_reports
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.observations import catalogue, selectors
    from careledger.request_context import RequestContext, bound

    call_command("migrate", verbosity=0)
    label = f"[{db}]"
    rng = random.Random(7)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)

    def person(i: int) -> ClientInput:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 18000)
        # The serial changes with each round of birth dates: unique numbers up to 9 million
        # clients (i % 500 repeated with the dates every 18,000, so 100,000 enrolled 18,000).
        body = f"330102{birth:%Y%m%d}{i // 18000 % 500 * 2 + 1:03d}"
        return ClientInput(
            name="张" + NAME_CHARS[i % 40] + NAME_CHARS[i // 40 % 40],
            sex="M",
            birth_date=birth,
            document_type="resident_id",
            document_number=body + ric.calc_check_digit(body + "0"),
            phone=f"139{i:08d}",
            membership_level="standard",
            care_team_ids=[team.id],
        )

    started = time.perf_counter()
    with bound(RequestContext(request_id="bench", channel="cli")):
        for start in range(0, args.clients, 5000):
            do_enrol_clients(
                actor=manager,
                inputs=[person(i) for i in range(start, min(args.clients, start + 5000))],
            )
    print(
        f"{label} enrolled {Client.objects.count()} clients "
        f"in {time.perf_counter() - started:.0f} s"
    )
    sample = list(Client.objects.order_by("?")[:5000])
    keyring.preload(sample, ["document_number", "name"])
    ids = [(c.document_number, c.name) for c in sample]

    files = [
        ("csv", csv_file(rng, ids, args.reports)),
        ("hl7v2", hl7_file(rng, ids, args.hl7_reports)),
        ("fhir", fhir_file(rng, ids, args.fhir_reports)),
    ]
    for fmt, data in files:
        if not data:
            continue
        with bound(RequestContext(request_id="bench", channel="cli")):
            started = time.perf_counter()
            job = services.do_create_import(
                actor=manager,
                filename=f"bench.{fmt}",
                data=data,
                source_name=f"bench-{fmt}",
                fmt=fmt,
                channel="cli",
                enqueue=False,
            )
            profiler = None
            if os.environ.get("BENCH_PROFILE") == fmt:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            job = services.run_import(job.id)
            seconds = time.perf_counter() - started
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        print(
            f"{label} {fmt:<5} {len(data) / 1e6:6.1f} MB, {job.units_total} reports: "
            f"{job.imported} observations in {seconds:.1f} s = {job.imported / seconds:,.0f}/s "
            f"(status {job.status}, quarantined {job.quarantined} {dict(job.by_reason)})"
        )

    # --- the trend view: one client, 10 annual check-ups of every catalogue indicator ---------
    target = sample[0]
    quantity = [i for i in catalogue.all_indicators() if i.kind == "quantity"]
    reports = []
    for year in range(10):
        day = dt.datetime(2016 + year, 6, 1, 8, 30, tzinfo=dt.UTC)
        results = []
        for ind in quantity:
            band = catalogue.reference_range(ind, sex="M", age=60)
            value = float(band.high) * rng.uniform(0.6, 1.2) if band and band.high else 1.0
            results.append(
                ParsedResult("x", ind.code, "", "LN", f"{value:.2f}", ind.unit_display, "", "")
            )
        reports.append(
            ParsedReport(
                year, "x", PatientIds(id_number=target.document_number), f"T{year}", day, results
            )
        )
    job = services.do_create_import(
        actor=manager,
        filename="t.csv",
        data=b"x,y\n1,2\n",
        source_name="trend",
        fmt="csv",
        channel="cli",
        enqueue=False,
    )
    with bound(RequestContext(request_id="bench", channel="cli")):
        tally = land_reports(job=job, reports=reports, actor=manager)
        timings = []
        for _ in range(args.views):
            t0 = time.perf_counter()
            selectors.client_trends(manager, target.id)
            timings.append((time.perf_counter() - t0) * 1000)
    if not timings:
        return
    p50, p95 = percentiles(timings)
    print(
        f"{label} trend view, {len(quantity)} indicators x 10 years ({tally.imported} results): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms over {args.views} views"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--hl7-reports", type=int, default=2000)
    parser.add_argument("--fhir-reports", type=int, default=1000)
    parser.add_argument("--views", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    legs = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for leg in legs:
        with throwaway_env(leg, f"careledger_bench_import_{os.getpid()}") as env:
            if env is None:
                continue
            env["CARELEDGER_LOG_LEVEL"] = "WARNING"
            env["CARELEDGER_IMPORT_MAX_MB"] = "200"
            passed = [
                f"--{name.replace('_', '-')}={getattr(args, name)}"
                for name in ("clients", "reports", "hl7_reports", "fhir_reports", "views")
            ]
            subprocess.run(
                [sys.executable, __file__, "--child", leg, *passed], env=env, check=True, cwd=ROOT
            )


if __name__ == "__main__":
    main()
