"""Rule-based tags for a population: every published rule for everyone, and one client after a
new result, through the real code.

For each database (a throwaway SQLite file, and PostgreSQL when one answers on 127.0.0.1:5432
or BENCH_POSTGRES_URL is set): enrol --clients clients through the enrolment service; land
--years annual check-ups of 15 indicators each through the import pipeline (`land_reports`,
matched by ID number, normalised, ledgered and sealed as an import is); add conditions (I10,
E11), current medications and a smoker's lifestyle for a share of them through the record
services; create and publish 20 typical tag rules through the tagging services. Then time
`tagging.evaluation.reevaluate` for the whole institution twice — the first run applies every
tag (its writes are timed apart), the second is the nightly steady state, which finds nothing
to change — and, --reevals times, a new blood-pressure result for a random client followed by
re-evaluating that one client: p50 / p95.

    .venv/bin/python benchmarks/population.py [--clients 100000] [--years 3] [--reevals 200]
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
from pathlib import Path

from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent
# (code, unit, mean, sd) of an annual check-up.
PANEL = [
    ("8480-6", "mmHg", 128, 17),
    ("8462-4", "mmHg", 80, 10),
    ("29463-7", "kg", 66, 10),
    ("8302-2", "cm", 165, 8),
    ("39156-5", "kg/m2", 24, 3.5),
    ("8280-0", "cm", 84, 10),
    ("2345-7", "mmol/L", 5.5, 0.9),
    ("4548-4", "%", 5.7, 0.6),
    ("2093-3", "mmol/L", 4.9, 0.9),
    ("2571-8", "mmol/L", 1.5, 0.7),
    ("2085-9", "mmol/L", 1.3, 0.3),
    ("18262-6", "mmol/L", 2.9, 0.8),
    ("3084-1", "umol/L", 340, 80),
    ("1742-6", "U/L", 25, 12),
    ("2160-0", "umol/L", 75, 18),
]
RULES = [
    (
        "hypertension",
        "高血压",
        "red",
        "disease",
        "latest('8480-6') >= 140 or latest('8462-4') >= 90 or has_condition('I10')",
    ),
    (
        "high_normal_bp",
        "血压正常高值",
        "orange",
        "risk",
        "latest('8480-6') between 130 and 139 and not has_condition('I10')",
    ),
    (
        "diabetes",
        "糖尿病",
        "red",
        "disease",
        "latest('2345-7') >= 7.0 or latest('4548-4') >= 6.5 or has_condition('E11')",
    ),
    (
        "prediabetes",
        "糖尿病前期",
        "orange",
        "risk",
        "latest('2345-7') >= 6.1 and latest('2345-7') < 7.0 and not has_condition('E11')",
    ),
    (
        "dyslipidaemia",
        "血脂异常",
        "orange",
        "disease",
        "latest('2093-3') >= 6.2 or latest('2571-8') >= 2.3 or latest('18262-6') >= 4.1 "
        "or latest('2085-9') < 1.0",
    ),
    ("hyperuricaemia", "高尿酸血症", "yellow", "disease", "latest('3084-1') > 420"),
    ("overweight", "超重", "yellow", "risk", "latest('39156-5') >= 24 and latest('39156-5') < 28"),
    ("obesity", "肥胖", "orange", "risk", "latest('39156-5') >= 28"),
    (
        "central_obesity",
        "中心性肥胖",
        "yellow",
        "risk",
        "sex = 'M' and latest('8280-0') >= 90 or sex = 'F' and latest('8280-0') >= 85",
    ),
    ("smoker", "吸烟", "grey", "lifestyle", "lifestyle('smoking') = 'current'"),
    ("alt_high", "转氨酶升高", "yellow", "risk", "flag('1742-6') in ('H', 'HH')"),
    ("rising_glucose", "血糖上升", "orange", "risk", "slope('2345-7') > 0.2"),
    ("sbp_jump", "血压骤升", "red", "followup", "change('8480-6') >= 20"),
    ("senior", "老年", "purple", "other", "age >= 65"),
    ("overdue", "逾期未检", "grey", "followup", "years_since('8480-6') > 1"),
    (
        "creatinine_high",
        "肌酐升高",
        "orange",
        "risk",
        "sex = 'M' and latest('2160-0') > 133 or sex = 'F' and latest('2160-0') > 115",
    ),
    ("on_medication", "长期用药", "blue", "other", "has_medication()"),
    (
        "bp_uncontrolled",
        "血压控制不佳",
        "red",
        "followup",
        "has_condition('I10') and latest('8480-6') >= 140",
    ),
    (
        "metabolic_risk",
        "代谢风险",
        "orange",
        "risk",
        "latest('39156-5') >= 24 and (latest('2571-8') >= 1.7 or latest('2345-7') >= 6.1)",
    ),
    ("no_hba1c", "未查糖化", "grey", "followup", "latest('4548-4') is null and age >= 40"),
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


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
    from careledger.exams import services as exam_services
    from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds
    from careledger.exams.pipeline import land_reports
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.records.services import do_add_entry
    from careledger.request_context import RequestContext, bound
    from careledger.tagging import services as tagging
    from careledger.tagging.evaluation import reevaluate
    from careledger.tagging.models import ClientTag
    from careledger.tagging.services import TagInput

    call_command("migrate", verbosity=0)
    label = f"[{db}]"
    rng = random.Random(11)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    admin = User.objects.create(username="adm", role="institution_admin", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)

    def number(i: int) -> tuple[str, dt.date, str]:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 18000)
        sex = "M" if i % 2 else "F"
        seq = i // 18000 % 250 * 2 + (1 if sex == "M" else 0)
        body = f"330102{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0"), birth, sex

    def person(i: int) -> ClientInput:
        document, birth, sex = number(i)
        return ClientInput(
            name="张" + "伟芳娜敏静丽强磊军洋"[i % 10] + "勇艳杰娟涛明超秀霞平"[i // 10 % 10],
            sex=sex,
            birth_date=birth,
            document_type="resident_id",
            document_number=document,
            phone=f"139{i:08d}",
            membership_level="standard",
            care_team_ids=[team.id],
        )

    ctx = RequestContext(request_id="bench", channel="cli")
    started = time.perf_counter()
    with bound(ctx):
        for start in range(0, args.clients, 5000):
            do_enrol_clients(
                actor=manager,
                inputs=[person(i) for i in range(start, min(args.clients, start + 5000))],
            )
    seconds = time.perf_counter() - started
    print(f"{label} enrolled {Client.objects.count()} clients in {seconds:.0f} s")

    job = exam_services.do_create_import(
        actor=manager,
        filename="bench.csv",
        data=b"x,y\n1,2\n",
        source_name="bench",
        fmt="csv",
        channel="cli",
        enqueue=False,
    )
    started = time.perf_counter()
    landed = 0
    with bound(ctx):
        batch: list[ParsedReport] = []
        for i in range(args.clients):
            document = number(i)[0]
            drift = rng.gauss(0, 0.05)
            for year in range(args.years):
                when = dt.datetime(
                    2026 - args.years + year, 3 + i % 8, 1 + i % 27, 8, 30, tzinfo=dt.UTC
                )
                results = [
                    ParsedResult(
                        "x",
                        code,
                        "",
                        "LN",
                        f"{max(mean * 0.4, rng.gauss(mean, sd) * (1 + drift * year)):.2f}",
                        unit,
                        "",
                        "",
                    )
                    for code, unit, mean, sd in PANEL
                ]
                batch.append(
                    ParsedReport(
                        len(batch),
                        "x",
                        PatientIds(id_number=document),
                        f"B{i}-{year}",
                        when,
                        results,
                    )
                )
            if len(batch) >= 600 or i == args.clients - 1:
                landed += land_reports(job=job, reports=batch, actor=manager).imported
                batch = []
    print(
        f"{label} landed {landed} observations ({args.years} check-ups x {len(PANEL)} "
        f"indicators) in {time.perf_counter() - started:.0f} s"
    )

    started = time.perf_counter()
    ids = list(Client.objects.values_list("pk", flat=True))
    share = max(1, len(ids) // 50)  # 2 % each: conditions, medication, smokers
    with bound(ctx):
        for n, client_id in enumerate(rng.sample(ids, min(len(ids), share * 3))):
            kind = n % 3
            if kind == 0:
                data = {
                    "code": rng.choice(["I10", "E11.9"]),
                    "onset": "2018",
                    "clinical_status": "active",
                }
                do_add_entry(actor=manager, client_id=client_id, section="conditions", data=data)
            elif kind == 1:
                data = {
                    "drug_name": "苯磺酸氨氯地平片",
                    "dose_value": "5",
                    "dose_unit": "mg",
                    "frequency": "qd",
                    "route": "oral",
                    "medication_status": "active",
                }
                do_add_entry(actor=manager, client_id=client_id, section="medications", data=data)
            else:
                data = {"smoking": "current", "alcohol": "never", "cigarettes_per_day": "10"}
                do_add_entry(actor=manager, client_id=client_id, section="lifestyle", data=data)
    print(
        f"{label} record entries for {share * 3} clients in {time.perf_counter() - started:.0f} s"
    )

    with bound(ctx):
        for code, name, colour, category, expression in RULES:
            tag = tagging.do_create_tag(
                actor=admin,
                data=TagInput(code, name, colour=colour, category=category),
                expression=expression,
            )
            tagging.do_publish_rule(actor=admin, rule_id=tag.rules.get().id)

        if os.environ.get("BENCH_PROFILE") == "first":
            import cProfile
            import pstats

            with cProfile.Profile() as first_profile:
                first = reevaluate(institution_id=inst.id, trigger="bench")
            pstats.Stats(first_profile).sort_stats("tottime").print_stats(25)
        else:
            first = reevaluate(institution_id=inst.id, trigger="bench")
        print(
            f"{label} first run, {first.rules} rules x {first.clients} clients: facts "
            f"{first.seconds_facts:.2f} s + rules {first.seconds_rules:.2f} s = "
            f"{first.seconds_facts + first.seconds_rules:.2f} s evaluated; "
            f"{first.applied} tags applied (writes {first.seconds_write:.1f} s)"
        )
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            steady = reevaluate(institution_id=inst.id, trigger="nightly")
            runs.append((time.perf_counter() - t0, steady))
        seconds, steady = min(runs, key=lambda r: r[0])
        print(
            f"{label} nightly run (nothing to change), {steady.rules} rules x {steady.clients} "
            f"clients: {seconds:.2f} s (facts {steady.seconds_facts:.2f} s, rules "
            f"{steady.seconds_rules:.2f} s, {steady.applied + steady.removed} changes)"
        )
        timings = []
        changed = 0
        profiler = None
        if os.environ.get("BENCH_PROFILE") == "one":
            import cProfile

            profiler = cProfile.Profile()
        for n in range(args.reevals):
            client_id = rng.choice(ids)
            document = Client.objects.get(pk=client_id)  # a fresh row: the pipeline matches by ID
            value = f"{rng.choice([118, 126, 135, 146, 162]):d}"
            report = ParsedReport(
                0,
                "x",
                PatientIds(id_number=document.document_number),
                f"N{n}",
                dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
                [ParsedResult("x", "8480-6", "", "LN", value, "mmHg", "", "")],
            )
            land_reports(job=job, reports=[report], actor=manager)
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            outcome = reevaluate(institution_id=inst.id, client_ids=[str(client_id)])
            if profiler:
                profiler.disable()
            timings.append((time.perf_counter() - t0) * 1000)
            changed += outcome.applied + outcome.removed
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    p50, p95 = percentiles(timings)
    print(
        f"{label} one client after a new result: p50 {p50:.1f} ms, p95 {p95:.1f} ms over "
        f"{args.reevals} re-evaluations ({changed} tag changes written)"
    )
    carried = ClientTag.objects.filter(active=True).count()
    print(f"{label} tags carried: {carried} ({carried / max(1, len(ids)):.2f} per client)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--reevals", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args)
        return
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    legs = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for leg in legs:
        with throwaway_env(leg, f"careledger_bench_population_{os.getpid()}") as env:
            if env is None:
                continue
            env["CARELEDGER_LOG_LEVEL"] = "WARNING"
            passed = [f"--{name}={getattr(args, name)}" for name in ("clients", "years", "reevals")]
            subprocess.run(
                [sys.executable, __file__, "--child", leg, *passed], env=env, check=True, cwd=ROOT
            )


if __name__ == "__main__":
    main()
