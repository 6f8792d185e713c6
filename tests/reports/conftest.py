"""Shared data for the report tests: a client with two check-ups, a record, risks assessed,
advice issued and a tag, all built through the product's own services."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from assessment.conftest import checkup
from careledger.advice.services import do_issue_sheet
from careledger.assessment.services import do_assess_client
from careledger.records import services as records
from careledger.reports import fonts


@pytest.fixture
def sitting(world):  # type: ignore[no-untyped-def]
    """欧阳明月, 58, hypertensive, smoker: results, risks, advice and a tag on record."""
    from advice.conftest import tag

    world.inst.serves_north = True
    world.inst.serves_urban = True
    world.inst.save()
    enrolled = world.enrol(
        name="欧阳明月", phone="13912340000", sex="M", birth_date=dt.date(1968, 3, 2)
    )
    client_id = enrolled.client_id
    checkup(world, client_id, dt.date(2024, 5, 1), sbp=138, fpg=5.6, tc=5.4, hdl=1.2, bmi=25.1)
    checkup(world, client_id, dt.date(2025, 5, 1), sbp=150, fpg=5.9, tc=5.8, hdl=1.1, bmi=25.8)
    checkup(world, client_id, dt.date(2026, 5, 1), sbp=146, dbp=92, tc=5.6, hdl=1.05,
            ldl=3.6, tg=2.0, fpg=6.3, hba1c=6.0, creatinine=88, waist=94, bmi=26.4)  # fmt: skip
    add = records.do_add_entry
    add(actor=world.manager, client_id=client_id, section="conditions",
        data={"code": "I10", "clinical_status": "active", "onset": "2019"})  # fmt: skip
    add(actor=world.manager, client_id=client_id, section="lifestyle",
        data={"smoking": "current", "cigarettes_per_day": 10, "alcohol": "never",
              "activity_minutes_per_week": 90, "activity_intensity": "moderate"})  # fmt: skip
    do_assess_client(actor=world.doctor, client_id=client_id)
    from careledger.clients.models import Client

    client = Client.objects.get(pk=client_id)
    tag(world, client, "htn", "高血压")
    do_issue_sheet(actor=world.manager, client_id=client_id, note="坚持每天快走")
    client.card_number = enrolled.card_number
    return client


def need_font() -> fonts.FontChoice:
    try:
        return fonts.choose()
    except fonts.FontMissing as exc:
        pytest.skip(f"no CJK font ({exc}); .ci/run installs fonts-noto-cjk")


def need_poppler() -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("pdftoppm/pdftotext missing: .ci/run installs poppler-utils")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    need_poppler()
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 (fixed argv, our own temporary file)
        ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
        capture_output=True,
        check=True,
        text=True,
    ).stdout


def pdf_pngs(pdf: bytes, out: Path, *, dpi: int = 110, name: str = "page") -> list[Path]:
    need_poppler()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(  # noqa: S603
        ["pdftoppm", "-r", str(dpi), "-png", str(path), str(out / name)],  # noqa: S607
        check=True,
    )
    return sorted(out.glob(f"{name}-*.png"))
