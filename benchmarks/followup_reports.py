"""The `reports` section of `benchmarks/followup.py` (issue 6): seconds to render one client's
printed health report (goal < 2 s per report).

Seeding (not measured): one institution, a health manager and a doctor, one client enrolled
through the enrolment service, 10 annual check-ups of every quantity indicator of the catalogue
landed through the import pipeline (`exams.pipeline.land_reports`, as `benchmarks/import.py`
does), a record (hypertension, smoking), every risk model run (`do_assess_client`), an advice
sheet issued and a tag applied. Measured, --reports times each: `reports.services.do_print`,
the whole print as the page runs it (policy, the five selectors with their ledger events,
canonical JSON, Ed25519 signature, fpdf2 drawing with the CJK subset, the ReportPrint row and
the `report.print` event committed), then `careledger report verify`'s path on the same file
(hash, signature, redraw and page comparison). Before the prints, the cached cut of the CJK
face (`careledger report prepare-font`) is built and timed apart: it is made once per
installation. The first print is shown apart (imports, the signing key's creation).

    .venv/bin/python benchmarks/followup.py --section reports [--reports 10] [--database sqlite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import time
from pathlib import Path


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _seed():  # type: ignore[no-untyped-def]
    from careledger.accounts.models import User
    from careledger.advice.services import do_issue_sheet
    from careledger.assessment.services import do_assess_client
    from careledger.clients.services import do_enrol_client
    from careledger.clients.validation import ClientInput
    from careledger.exams import services as exams
    from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds
    from careledger.exams.pipeline import land_reports
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.observations import catalogue
    from careledger.records.services import do_add_entry
    from careledger.tagging.services import TagInput, do_apply_manual_tag, do_create_tag

    inst = Institution.objects.create(
        code="1002", name="康链健康管理中心（基准）", serves_north=True, serves_urban=True
    )
    dept = Department.objects.create(institution=inst, name="健康管理部")
    team = CareTeam.objects.create(institution=inst, department=dept, name="一组")
    manager = User.objects.create(username="mgr", role="health_manager", institution=inst)
    doctor = User.objects.create(username="doc", role="doctor", institution=inst)
    admin = User.objects.create(username="adm", role="institution_admin", institution=inst)
    for user in (manager, doctor):
        CareTeamMembership.objects.create(care_team=team, user=user)
    from stdnum.cn import ric

    body = "33010219620302001"
    person = ClientInput(
        name="欧阳明月",
        sex="M",
        birth_date=dt.date(1962, 3, 2),
        document_type="resident_id",
        document_number=body + ric.calc_check_digit(body + "0"),
        phone="13912340000",
        address="浙江省杭州市西湖区文三路100号",
        care_team_ids=[team.id],
    )
    client_id = do_enrol_client(actor=manager, data=person).client_id
    rng = random.Random(6)
    quantity = [i for i in catalogue.all_indicators() if i.kind == "quantity"]
    reports = []
    for year in range(10):
        day = dt.datetime(2017 + year, 6, 1, 8, 30, tzinfo=dt.UTC)
        results = []
        for ind in quantity:
            band = catalogue.reference_range(ind, sex="M", age=60)
            value = float(band.high) * rng.uniform(0.6, 1.2) if band and band.high else 1.0
            results.append(
                ParsedResult("x", ind.code, "", "LN", f"{value:.2f}", ind.unit_display, "", "")
            )
        ids = PatientIds(id_number=person.document_number)
        reports.append(ParsedReport(year, "x", ids, f"T{year}", day, results))
    job = exams.do_create_import(
        actor=manager,
        filename="t.csv",
        data=b"x,y\n1,2\n",
        source_name="bench",
        fmt="csv",
        channel="cli",
        enqueue=False,
    )
    tally = land_reports(job=job, reports=reports, actor=manager)
    condition = {"code": "I10", "clinical_status": "active", "onset": "2019"}
    do_add_entry(actor=manager, client_id=client_id, section="conditions", data=condition)
    habits = {"smoking": "current", "cigarettes_per_day": 10, "alcohol": "never"}
    habits |= {"activity_minutes_per_week": 90, "activity_intensity": "moderate"}
    do_add_entry(actor=manager, client_id=client_id, section="lifestyle", data=habits)
    do_assess_client(actor=doctor, client_id=client_id)
    tag = do_create_tag(
        actor=admin, data=TagInput(code="htn", name_zh="高血压", category="disease")
    )
    do_apply_manual_tag(actor=manager, client_id=client_id, tag_id=tag.id, reason="基准")
    do_issue_sheet(actor=manager, client_id=client_id, note="坚持每天快走")
    return doctor, client_id, len(quantity), tally.imported


def run_reports(label: str, args: argparse.Namespace) -> None:
    from django.conf import settings
    from pypdf import PdfReader

    from careledger.reports import document, fonts, render, services, verify
    from careledger.reports.management.commands.report import _published_keys
    from careledger.reports.seal import SEAL_FILE, parse_seal
    from careledger.request_context import RequestContext, bound

    with bound(RequestContext(request_id="bench", channel="cli")):
        doctor, client_id, indicators, results = _seed()
        print(f"{label} seeded: one client, {indicators} indicators x 10 years ({results} results)")
        count = getattr(args, "reports", 10)
        full = fonts.choose(settings.CARELEDGER_REPORT_FONT, settings.CARELEDGER_REPORT_FONT_FACE)
        t0 = time.perf_counter()
        fonts.build_common_cut(full, Path(settings.CARELEDGER_VAR_DIR) / "cache" / "fonts")
        print(f"{label} common cut of the CJK face built (once per installation, not a print): "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        font = services.font()
        seconds, cpu, sizes, pages = [], [], [], []
        for _ in range(count + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            printed = services.do_print(actor=doctor, client_id=client_id, purpose="care")
            seconds.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            sizes.append(len(printed.pdf))
            pages.append(printed.pages)
        first, rest = seconds[0], seconds[1:]
        print(
            f"{label} print one report ({pages[-1]} pages, {sizes[-1] / 1024:.0f} KiB): first "
            f"{first:.2f} s; then median {statistics.median(rest):.2f} s wall "
            f"({statistics.median(cpu[1:]):.2f} s CPU of this process), max {max(rest):.2f} s "
            f"over {len(rest)} prints ({load()})"
        )
        doc = verify.verify_pdf(printed.pdf, _published_keys(None)).document
        canonical = document.canonical_json(doc)
        seal = parse_seal(PdfReader(io.BytesIO(printed.pdf)).attachments[SEAL_FILE][0])
        drawing = []
        for _ in range(count):
            t0 = time.perf_counter()
            render.render(doc, canonical, seal, font)
            drawing.append(time.perf_counter() - t0)
        print(f"{label} of which drawing the PDF alone (fpdf2, font subset): median "
              f"{statistics.median(drawing):.2f} s")  # fmt: skip
        keys = _published_keys(None)
        t0 = time.perf_counter()
        result = verify.verify_pdf(
            printed.pdf,
            keys,
            redraw=lambda doc, canonical, seal: render.render(doc, canonical, seal, font),
            renderer=render.RENDERER,
        )
        took = time.perf_counter() - t0
        print(f"{label} verify the last one ({', '.join(result.checks)}): {took:.2f} s")
