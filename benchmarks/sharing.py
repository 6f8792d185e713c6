"""Sharing benchmarks: one section per measurement, each in a fresh database per leg.

* `share` (engineer D): the time to build and sign a share Bundle for a client with 10 years of
  data — 10 annual check-ups of every quantity indicator in the catalogue (~80 results each,
  ~800 Observations and 10 DiagnosticReports) plus their Patient — through the real path a
  partner's `GET /fhir/R4/$share/{grant}` takes (`sharing.services.do_fetch_share`: grant and
  consent checks, the policy, the row-locked use count, gathering, fhir.resources validation of
  every resource, the ledger entry with the Bundle digest, the receipt with a freshly signed
  tree head, the JWS). Goal: < 500 ms. Also the offline check (`verify_share`) of one share.
* `deid` (engineer E): a de-identified research export of --deid-clients (100,000) clients
  with research consent, end to end through `exports.services.run_export`, then its parts
  (see the section's comment). Goal: < 60 s.
* further sections are added to `SECTIONS` by their owners.

    .venv/bin/python benchmarks/sharing.py [--section share|all] [--database sqlite|postgres|both]
                                           [--clients 1000] [--fetches 30]
                                           [--deid-clients 100000] [--consented 0.9]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent


NAME_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海燕鹏飞宇晨浩然子轩"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def setup_django() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def share_section(db: str, args: argparse.Namespace) -> None:
    from stdnum.cn import ric

    from careledger.accounts.models import User
    from careledger.clients.models import Client
    from careledger.clients.services import do_enrol_clients
    from careledger.clients.validation import ClientInput
    from careledger.consent import services as consent_services
    from careledger.consent import text_services
    from careledger.crypto import keyring
    from careledger.exams import services as exam_services
    from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds
    from careledger.exams.pipeline import land_reports
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.observations import catalogue
    from careledger.request_context import RequestContext, bound
    from careledger.sharing import jws, services
    from careledger.sharing.categories import CATEGORIES
    from careledger.sharing.principal import PartnerPrincipal
    from careledger.sharing.verify import verify_share

    label = f"[{db}] share"
    rng = random.Random(7)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    admin = User.objects.create(username="adm", role="institution_admin", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)

    def person(i: int) -> ClientInput:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 18000)
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

    with bound(RequestContext(request_id="bench", channel="cli")):
        for start in range(0, args.clients, 1000):
            do_enrol_clients(
                actor=manager,
                inputs=[person(i) for i in range(start, min(args.clients, start + 1000))],
            )
        target = Client.objects.order_by("created_at").first()
        keyring.preload([target], ["document_number"])
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
                    year,
                    "x",
                    PatientIds(id_number=target.document_number),
                    f"T{year}",
                    day,
                    results,
                )
            )
        job = exam_services.do_create_import(
            actor=manager,
            filename="t.csv",
            data=b"x,y\n1,2\n",
            source_name="ten-years",
            fmt="csv",
            channel="cli",
            enqueue=False,
        )
        tally = land_reports(job=job, reports=reports, actor=manager)
        registered = services.do_register_partner(
            actor=admin, name="合作医院", code="H-1", scopes=["system/*.read"]
        )
        draft = text_services.do_create_draft(
            actor=admin, purpose="share_partner", title="共享", body="同意共享。"
        )
        text = text_services.do_publish(actor=admin, text_id=draft.id)
        consent_services.do_record(
            actor=manager,
            client_id=target.id,
            text_id=text.id,
            method="paper",
            reference="bench",
            partner_institution_id=registered.partner.id,
            partner_name="合作医院",
        )
        grant = services.do_create_grant(
            actor=manager,
            client_id=target.id,
            data=services.GrantInput(
                partner_id=registered.partner.id,
                categories=list(CATEGORIES),
                data_from=None,
                data_to=None,
                valid_days=30,
                max_uses=args.fetches + 5,
            ),
        )
        principal = PartnerPrincipal(
            partner=registered.partner, scopes=frozenset({"system/*.read"})
        )
        services.do_fetch_share(principal=principal, grant_id=grant.id, base="https://x/fhir/R4")
        timings, share = [], None
        if os.environ.get("BENCH_PROFILE") == "share":
            import cProfile
            import pstats

            with cProfile.Profile() as profiler:
                services.do_fetch_share(
                    principal=principal, grant_id=grant.id, base="https://x/fhir/R4"
                )
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        cpu = []  # this process's CPU time: on a shared machine, closer to the quiet figure
        for _ in range(args.fetches):
            t0, c0 = time.perf_counter(), time.process_time()
            share = services.do_fetch_share(
                principal=principal, grant_id=grant.id, base="https://x/fhir/R4"
            )
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        keys = jws.keys_from_jwks(services.published_keys())
        t0 = time.perf_counter()
        result = verify_share(share.token, keys)
        verify_ms = (time.perf_counter() - t0) * 1000
    assert result.ok, [(c.name, c.message) for c in result.checks]
    p50, p95 = percentiles(timings)
    print(
        f"{label}: {args.clients} clients enrolled, target with {tally.imported} results over "
        f"10 years; Bundle of {share.resources} resources, JWS {len(share.token) / 1e6:.2f} MB; "
        f"build + sign p50 {p50:.0f} ms, p95 {p95:.0f} ms over {args.fetches} fetches "
        f"(goal < 500 ms; CPU of this process p50 {statistics.median(cpu):.0f} ms); "
        f"offline verify {verify_ms:.0f} ms; load {os.getloadavg()[0]:.1f}"
    )


# ------------------------------------------------------------------- deid section (engineer E)
# `deid`: a de-identified research export of --deid-clients clients (goal < 60 s for 100,000).
#
# Seeding (not measured): clients enrolled through the enrolment service and 3 annual check-ups
# of 15 indicators bulk-written, both by `population.py`'s seeding functions; a research consent
# text published through the consent services and a research consent for --consented of the
# clients inserted in bulk (one row each, as `consent.services` leaves it: giving 100,000
# consents at the desk is the consent app's cost, not the export's); a project through
# `exports.services`. Measured: the whole approved run, `exports.services.run_export` — the
# scope query with the consent filter, each client's data key and sealed ID number (for the
# area code), the latest of 5 indicators in one window query, tags, de-identification (HMAC
# pseudonyms, age bands, area-code prefix, per-client date shift, k = 5 with suppression), the
# watermarked CSV, sealing it under a fresh key, one ledger event per exported client and the
# run's own — then the frame, de-identification and the CSV writer alone.
DEID_CODES = ["8480-6", "8462-4", "2345-7", "2093-3", "39156-5"]


def _timed(label: str, func: Callable[[], Any]) -> tuple[Any, float]:
    import resource

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    wall, cpu0 = time.perf_counter(), cpu()
    result = func()
    wall = time.perf_counter() - wall
    print(f"{label}: {wall:.2f} s wall, {cpu() - cpu0:.2f} s CPU")
    return result, wall


def _bulk_consents(*, inst: Any, text: Any, manager: Any, share: float, rng: random.Random) -> int:
    from django.utils import timezone

    from careledger.clients.models import Client
    from careledger.consent.models import Consent

    given = timezone.now() - dt.timedelta(days=30)
    rows = [
        Consent(
            institution_id=inst.id,
            client_id=cid,
            purpose="research",
            text=text,
            text_version=text.version,
            text_sha256=text.body_sha256,
            method="paper",
            given_at=given,
            recorded_by=manager,
        )
        for cid in Client.objects.values_list("pk", flat=True)
        if rng.random() < share
    ]
    Consent.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def deid_section(db: str, args: argparse.Namespace) -> None:
    from django.utils import timezone
    from population import enrol, seed_results

    from careledger.accounts.models import User
    from careledger.clients.models import Client
    from careledger.consent import text_services
    from careledger.exports import deid, population, services, sheets
    from careledger.exports.models import ExportRequest
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.request_context import RequestContext, bound

    label = f"[{db}]"
    rng = random.Random(7)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    admin = User.objects.create(username="adm", role="institution_admin", institution=inst)
    analyst = User.objects.create(username="ana", role="analyst", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)
    with bound(RequestContext(request_id="bench", channel="cli")):
        started = time.perf_counter()
        enrol(manager=manager, team=team, clients=args.deid_clients)
        print(
            f"{label} seeded: {Client.objects.count()} clients enrolled through the service "
            f"in {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        written = seed_results(institution_id=inst.id, years=3, rng=rng)
        print(f"{label} seeded: {written} observations in {time.perf_counter() - started:.0f} s")
        draft = text_services.do_create_draft(
            actor=admin,
            purpose="research",
            title="科研使用知情同意书",
            body="同意去标识化科研使用。",
        )
        text = text_services.do_publish(actor=admin, text_id=draft.id)
        consented = _bulk_consents(
            inst=inst, text=text, manager=manager, share=args.consented, rng=rng
        )
        print(f"{label} seeded: {consented} research consents")
        from django.db import connection

        if connection.vendor == "postgresql":  # bulk-loaded tables: give the planner statistics
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        project = services.do_create_project(actor=admin, code="bench", title="bench", k=5)
        scope = {
            "purpose": "research",
            "project_id": str(project.id),
            "observation_codes": DEID_CODES,
            "k": 5,
        }
        export, _wall = _timed(
            f"{label} request (scope validated, clients counted)",
            lambda: services.do_request_export(
                actor=analyst, data=scope, justification="bench cohort export"
            ),
        )
        services.do_approve_export(actor=admin, request_id=export.id, mfa_fresh=True)
        print(f"{label} measuring (load {os.getloadavg()})")
        done, wall = _timed(
            f"{label} de-identified research export of {export.client_count} clients, end to end",
            lambda: services.run_export(export.id),
        )
        done = ExportRequest.objects.get(pk=done.id)
        report = done.deid_report
        print(
            f"{label} result: {done.status}, {done.row_count} rows, {done.file_bytes / 1e6:.1f} MB "
            f"sealed; k requested {report['k_requested']}, achieved {report['k_achieved']}, "
            f"{report['suppressed']} suppressed, age bands of {report['age_band_years']} years, "
            f"area code {report['region_digits']} digits; "
            f"{export.client_count / wall:,.0f} clients/s (goal: 100,000 in < 60 s)"
        )
        frame, _wall = _timed(
            f"{label}   part: the frame (scope, keys, sealed ID numbers, results, tags)",
            lambda: population.build_frame(inst.id, done.scope),
        )
        config = deid.DeidConfig(reference_date=timezone.localdate(), k=5)
        dates = ["enrolled_on", *[population.date_column(c) for c in DEID_CODES]]
        (out, _report), _wall = _timed(
            f"{label}   part: de-identification (pseudonyms, generalisation, shift, k)",
            lambda: deid.anonymise(
                frame, key=b"k" * 32, config=config, date_columns=dates, keep=DEID_CODES
            ),
        )
        mark = sheets.Watermark("bench", "ana", "adm", "research", timezone.now(), timezone.now())
        _timed(
            f"{label}   part: the watermarked CSV ({out.height} rows)",
            lambda: sheets.to_csv(out, mark, out.columns),
        )
        print(f"{label} after the run (load {os.getloadavg()})")


SECTIONS: dict[str, Callable[[str, argparse.Namespace], None]] = {
    "share": share_section,
    "deid": deid_section,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--section", choices=[*SECTIONS, "all"], default="all")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--fetches", type=int, default=30)
    parser.add_argument("--deid-clients", type=int, default=100_000)  # deid section
    parser.add_argument("--consented", type=float, default=0.9)  # share with research consent
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args, _extra = parser.parse_known_args()
    if args.child:
        setup_django()
        SECTIONS[args.child[1]](args.child[0], args)
        return
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {os.getloadavg()}"
    )
    legs = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    sections = list(SECTIONS) if args.section == "all" else [args.section]
    for section in sections:
        for leg in legs:
            with throwaway_env(leg, f"careledger_bench_{section}_{os.getpid()}") as env:
                if env is None:
                    continue
                env["CARELEDGER_LOG_LEVEL"] = "WARNING"
                subprocess.run(
                    [sys.executable, __file__, "--child", leg, section, *sys.argv[1:]],
                    env=env,
                    check=True,
                    cwd=ROOT,
                )


if __name__ == "__main__":
    main()
