"""The population benchmark: every tag rule and every risk model for a whole institution, and
one client after a new result, through the code the application runs.

For each database (a throwaway SQLite file, and PostgreSQL when one answers on 127.0.0.1:5432
or BENCH_POSTGRES_URL is set) it seeds an institution and then measures.

Seeding (not measured): --clients clients enrolled through the enrolment service
(`do_enrol_clients`: validation, blind indexes, data keys, sealed fields, ledger); --years
annual check-ups of 15 indicators each, written by a benchmark-only bulk path (plain rows, COPY
on PostgreSQL) because landing 4.5 million results through the import pipeline would take
longer than everything measured here (the pipeline has its own benchmark, `import.py`); record
entries (conditions I10/E11, current medications, lifestyle, family history) for a share of the
clients through the record services; 24 typical tag rules, four of them reading risk levels,
created and published through the tagging services.

Measured, with wall and CPU time of this process (PostgreSQL's own CPU is not in it) and the
sub-timings each service reports (fact gathering, evaluation, writes):

* the first population run — `assessment.services.assess_institution` (every risk model for
  everyone, all assessments written) then `tagging.evaluation.reevaluate` for the institution
  (every rule, every tag applied): what the nightly tasks `assess_everyone` and
  `reevaluate_everyone` run, in that order;
* the nightly steady state: the same two calls again, which find nothing to change (best of 2);
* one client after a new result: a new blood-pressure result for a random client lands
  through the import pipeline (`land_reports`, not timed), then the task the pipeline's
  `facts_changed` hook enqueues, `tagging.tasks.reevaluate_clients([client])` (risk models,
  then tags), is timed: p50 / p95 over --reevals clients, and its number of queries.

    .venv/bin/python benchmarks/population.py [--clients 100000] [--years 3] [--reevals 200]
                                              [--database sqlite|postgres|both]

BENCH_PROFILE=assess|tags|one prints a cProfile of that step (the figures are then slower).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent
# (code, unit, mean, sd, low, high, share measured) of an annual check-up; low/high give the flag.
PANEL = [
    ("8480-6", "mm[Hg]", 128, 17, 90, 139, 1.0),
    ("8462-4", "mm[Hg]", 80, 10, 60, 89, 1.0),
    ("29463-7", "kg", 66, 10, None, None, 1.0),
    ("8302-2", "cm", 165, 8, None, None, 1.0),
    ("39156-5", "kg/m2", 24, 3.5, 18.5, 23.9, 1.0),
    ("8280-0", "cm", 84, 10, None, None, 0.9),
    ("2345-7", "mmol/L", 5.5, 0.9, 3.9, 6.0, 1.0),
    ("4548-4", "%", 5.7, 0.6, 4.0, 6.0, 0.6),
    ("2093-3", "mmol/L", 4.9, 0.9, None, 5.2, 1.0),
    ("2571-8", "mmol/L", 1.5, 0.7, None, 1.7, 1.0),
    ("2085-9", "mmol/L", 1.3, 0.3, 1.0, None, 1.0),
    ("18262-6", "mmol/L", 2.9, 0.8, None, 3.4, 1.0),
    ("3084-1", "umol/L", 340, 80, 150, 420, 0.8),
    ("1742-6", "U/L", 25, 12, 7, 40, 0.9),
    ("2160-0", "umol/L", 75, 18, 45, 104, 0.9),
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
    ("ascvd_high", "心血管高危", "red", "risk", "risk('china_par') = 'high'"),
    ("ckd_3plus", "肾功能下降", "orange", "risk", "risk_value('ckd_epi_2021') < 60"),
    ("bp_grade_2", "高血压2级", "red", "risk", "risk('bp_grade') in ('grade_2', 'grade_3')"),
    ("diabetes_screen", "糖尿病筛查", "orange", "followup", "risk('cdrs') = 'high'"),
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def cpu_seconds() -> float:
    """CPU time of this process, every thread (polars evaluates in parallel)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def clock(into: dict[str, float], profile: str = "") -> Iterator[None]:
    """Wall and CPU seconds of the block into `into` (and a cProfile when BENCH_PROFILE names
    this block)."""
    profiler = None
    if profile and os.environ.get("BENCH_PROFILE") == profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    into["wall"] = time.perf_counter() - wall
    into["cpu"] = cpu_seconds() - cpu
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


# ---------------------------------------------------------------- seeding (not measured)


def _number(i: int) -> tuple[str, dt.date, str]:
    from stdnum.cn import ric

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 18000)
    sex = "M" if i % 2 else "F"
    seq = i // 18000 % 250 * 2 + (1 if sex == "M" else 0)
    body = f"330102{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0"), birth, sex


def enrol(*, manager: Any, team: Any, clients: int) -> None:
    from careledger.clients.services import do_enrol_clients
    from careledger.clients.validation import ClientInput

    def person(i: int) -> ClientInput:
        document, birth, sex = _number(i)
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

    for start in range(0, clients, 5000):
        result = do_enrol_clients(
            actor=manager, inputs=[person(i) for i in range(start, min(clients, start + 5000))]
        )
        assert not result.rejected, result.rejected[:3]


def _flag(value: float, low: float | None, high: float | None) -> str:
    if high is not None and value > high:
        return "HH" if value > high * 3 else "H"
    if low is not None and value < low:
        return "L"
    return "N" if low is not None or high is not None else ""


def seed_results(*, institution_id: uuid.UUID, years: int, rng: random.Random) -> int:
    """Benchmark-only bulk path: one report per annual check-up and its observations as plain
    rows (COPY on PostgreSQL, executemany elsewhere), values already in canonical units, as the
    import pipeline would have stored them. Not sealed: ledger verify is not run here."""
    from django.db import connection, transaction

    from careledger.clients.models import Client
    from careledger.observations.models import Observation, Report

    postgres = connection.vendor == "postgresql"
    ops = connection.ops

    def uid(value: uuid.UUID) -> Any:
        return value if postgres else value.hex

    def when(value: dt.datetime) -> Any:
        return value if postgres else ops.adapt_datetimefield_value(value)

    report_cols = [
        "id",
        "created_at",
        "updated_at",
        "institution_id",
        "client_id",
        "source_name",
        "report_key",
        "effective_at",
        "issued_at",
        "status",
        "version",
        "import_job_id",
    ]
    obs_cols = [
        "id",
        "institution_id",
        "client_id",
        "report_id",
        "code",
        "effective_at",
        "value",
        "comparator",
        "value_text",
        "unit",
        "flag",
        "source_code",
        "source_value",
        "source_unit",
        "source_range",
        "source_flag",
        "is_current",
        "superseded_at",
        "created_at",
    ]
    clients = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    now = dt.datetime.now(dt.UTC)
    inst = uid(institution_id)
    stamp = when(now)
    reports: list[tuple] = []
    observations: list[tuple] = []
    written = 0

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table, cols, rows in (
                (Report._meta.db_table, report_cols, reports),
                (Observation._meta.db_table, obs_cols, observations),
            ):
                if postgres:
                    raw = cursor.cursor
                    with raw.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(cols))
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",  # noqa: S608
                        rows,
                    )
        reports.clear()
        observations.clear()

    for i, client_id in enumerate(clients):
        client = uid(client_id)
        drift = rng.gauss(0, 0.05)
        for year in range(years):
            effective = dt.datetime(
                2026 - years + year, 3 + i % 8, 1 + i % 27, 8, 30, tzinfo=dt.UTC
            )
            at = when(effective)
            report = uuid.uuid4()
            reports.append(
                (
                    uid(report),
                    stamp,
                    stamp,
                    inst,
                    client,
                    "bench",
                    report.hex + "0" * 32,
                    at,
                    None,
                    "final",
                    1,
                    None,
                )
            )
            for code, unit, mean, sd, low, high, share in PANEL:
                if share < 1.0 and rng.random() > share:
                    continue
                value = max(mean * 0.4, rng.gauss(mean, sd) * (1 + drift * year))
                observations.append(
                    (
                        uid(uuid.uuid4()),
                        inst,
                        client,
                        uid(report),
                        code,
                        at,
                        Decimal(f"{value:.2f}"),
                        "",
                        "",
                        unit,
                        _flag(value, low, high),
                        code,
                        f"{value:.2f}",
                        unit,
                        "",
                        "",
                        True,
                        None,
                        stamp,
                    )
                )
        if len(observations) >= 50_000:
            written += len(observations)
            flush()
    written += len(observations)
    flush()
    return written


def seed_record(*, manager: Any, rng: random.Random, ids: list[Any]) -> int:
    """Record entries through the record service for 2 % of the clients each: a condition
    (I10 or E11.9), a current medication, a lifestyle entry, a family history entry."""
    from careledger.records.services import do_add_entry

    share = max(1, len(ids) // 50)
    chosen = rng.sample(ids, min(len(ids), share * 4))
    for n, client_id in enumerate(chosen):
        kind = n % 4
        if kind == 0:
            section = "conditions"
            data = {
                "code": rng.choice(["I10", "E11.9"]),
                "onset": "2018",
                "clinical_status": "active",
            }
        elif kind == 1:
            section = "medications"
            data = {
                "drug_name": "苯磺酸氨氯地平片",
                "dose_value": "5",
                "dose_unit": "mg",
                "frequency": "qd",
                "route": "oral",
                "medication_status": "active",
            }
        elif kind == 2:
            section = "lifestyle"
            smoking = rng.choice(["current", "never", "never", "former"])
            data = {
                "smoking": smoking,
                "alcohol": "never",
                "cigarettes_per_day": "10" if smoking == "current" else "",
                "activity_minutes_per_week": str(rng.choice([30, 90, 150, 240, 300])),
                "activity_intensity": "moderate",
            }
        else:
            section = "family_history"
            data = {
                "relation": rng.choice(["FTH", "MTH", "PGRFTH"]),
                "code": rng.choice(["E11", "I21"]),
            }
        do_add_entry(actor=manager, client_id=client_id, section=section, data=data)
    return len(chosen)


def seed_rules(*, admin: Any) -> None:
    from careledger.tagging import services as tagging
    from careledger.tagging.services import TagInput

    for code, name, colour, category, expression in RULES:
        tag = tagging.do_create_tag(
            actor=admin,
            data=TagInput(code, name, colour=colour, category=category),
            expression=expression,
        )
        tagging.do_publish_rule(actor=admin, rule_id=tag.rules.get().id)


# ---------------------------------------------------------------- measured


def population_run(inst_id: uuid.UUID, label: str, what: str) -> float:
    """assess_institution, then the tag re-evaluation of the institution; prints both."""
    from careledger.assessment.services import assess_institution
    from careledger.tagging.evaluation import reevaluate

    risk: dict[str, float] = {}
    tags: dict[str, float] = {}
    with clock(risk, "assess"):
        summary = assess_institution(institution_id=inst_id)
    trigger = "bench" if what == "first" else "nightly"
    with clock(tags, "tags"):
        outcome = reevaluate(institution_id=inst_id, trigger=trigger)
    total = risk["wall"] + tags["wall"]
    print(
        f"{label} {what}: risk models {summary.clients} clients x {summary.models} models "
        f"{risk['wall']:.2f} s wall / {risk['cpu']:.2f} s CPU (facts {summary.seconds_facts:.2f}"
        f" s, evaluation {summary.seconds_evaluate:.2f} s, writes {summary.seconds_write:.2f} s;"
        f" {summary.written} assessments written)"
    )
    print(
        f"{label} {what}: tag rules {outcome.rules} rules x {outcome.clients} clients "
        f"{tags['wall']:.2f} s wall / {tags['cpu']:.2f} s CPU (facts {outcome.seconds_facts:.2f}"
        f" s, rules {outcome.seconds_rules:.2f} s, writes {outcome.seconds_write:.2f} s; "
        f"{outcome.applied} applied, {outcome.removed} removed)"
    )
    print(f"{label} {what}: total {total:.2f} s wall ({load()})")
    return total


def one_client(
    *, job: Any, manager: Any, ids: list[Any], rng: random.Random, reevals: int, label: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from careledger.clients.models import Client
    from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds
    from careledger.exams.pipeline import land_reports
    from careledger.tagging.tasks import reevaluate_clients

    def new_result(n: int) -> str:
        client_id = rng.choice(ids)
        document = Client.objects.get(pk=client_id).document_number
        value = f"{rng.choice([118, 126, 135, 146, 162]):d}"
        report = ParsedReport(
            0,
            "x",
            PatientIds(id_number=document),
            f"N{n}",
            dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
            [ParsedResult("x", "8480-6", "", "LN", value, "mm[Hg]", "", "")],
        )
        landed = land_reports(job=job, reports=[report], actor=manager)
        assert landed.imported == 1, landed
        return str(client_id)

    task: Callable[[list[str]], int] = reevaluate_clients
    timings: list[float] = []
    cpu: list[float] = []
    changes = 0
    profiler = None
    if os.environ.get("BENCH_PROFILE") == "one":
        import cProfile

        profiler = cProfile.Profile()
    for n in range(reevals):
        client_id = new_result(n)
        t0, c0 = time.perf_counter(), cpu_seconds()
        if profiler:
            profiler.enable()
        changes += task([client_id])
        if profiler:
            profiler.disable()
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((cpu_seconds() - c0) * 1000)
    if profiler:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    with CaptureQueriesContext(connection) as queries:
        task([new_result(reevals)])
    p50, p95 = percentiles(timings)
    c50, c95 = percentiles(cpu)
    print(
        f"{label} one client after a new result (risk models + tags): p50 {p50:.1f} ms, p95 "
        f"{p95:.1f} ms wall (CPU p50 {c50:.1f}, p95 {c95:.1f} ms) over {reevals} clients, "
        f"{len(queries.captured_queries)} queries each; {changes} tag changes ({load()})"
    )


def run_one(db: str, args: argparse.Namespace) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command

    from careledger.accounts.models import User
    from careledger.assessment.models import RiskAssessment
    from careledger.clients.models import Client
    from careledger.exams import services as exam_services
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.request_context import RequestContext, bound
    from careledger.tagging.models import ClientTag

    call_command("migrate", verbosity=0)
    label = f"[{db}]"
    rng = random.Random(11)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    admin = User.objects.create(username="adm", role="institution_admin", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)
    ctx = RequestContext(request_id="bench", channel="cli")
    with bound(ctx):
        started = time.perf_counter()
        enrol(manager=manager, team=team, clients=args.clients)
        print(
            f"{label} seeded: {Client.objects.count()} clients enrolled through the service in "
            f"{time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        written = seed_results(institution_id=inst.id, years=args.years, rng=rng)
        print(
            f"{label} seeded: {written} observations ({args.years} annual check-ups, "
            f"{len(PANEL)} indicators) bulk-written in {time.perf_counter() - started:.0f} s"
        )
        ids = list(Client.objects.values_list("pk", flat=True))
        started = time.perf_counter()
        entries = seed_record(manager=manager, rng=rng, ids=ids)
        seed_rules(admin=admin)
        print(
            f"{label} seeded: {entries} record entries and {len(RULES)} published rules in "
            f"{time.perf_counter() - started:.0f} s"
        )
        print(f"{label} measuring ({load()})")
        population_run(inst.id, label, "first run")
        nightly = [
            population_run(inst.id, label, "nightly run (nothing to change)") for _ in (1, 2)
        ]
        print(f"{label} nightly run, best of 2: {min(nightly):.2f} s wall")
        job = exam_services.do_create_import(
            actor=manager,
            filename="bench.csv",
            data=b"x,y\n1,2\n",
            source_name="bench-new",
            fmt="csv",
            channel="cli",
            enqueue=False,
        )
        one_client(job=job, manager=manager, ids=ids, rng=rng, reevals=args.reevals, label=label)
    carried = ClientTag.objects.filter(active=True).count()
    current = RiskAssessment.objects.filter(is_current=True).count()
    print(
        f"{label} carried: {carried} tags ({carried / max(1, len(ids)):.2f} per client), "
        f"{current} current assessments"
    )


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
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {load()}"
    )
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
