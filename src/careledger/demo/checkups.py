"""Demo check-ups: 3–8 years of annual results per demo client, imported the way an exam
centre's results arrive (a CSV export per year, through the real import job and pipeline), so
the trend pages, the import history and the ledger all show something real.

Trajectories are plausible rather than random: each client follows a profile — stable, metabolic
worsening (weight, blood pressure, glucose, triglycerides and uric acid creep up), improving (a
client who started high and responds to intervention), liver (transaminases rising) or kidney
(creatinine rising, protein appearing in urine) — with year-to-year noise of the indicator's
own within-subject biological variation, so some changes are significant by RCV and most are not.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from careledger.observations import catalogue

SOURCE = "康链体检中心"
HEADERS = [
    "体检号",
    "身份证号",
    "姓名",
    "性别",
    "体检日期",
    "项目代码",
    "项目名称",
    "结果",
    "单位",
    "参考范围",
]

# Yearly relative drift per profile (fraction per year) for the indicators it moves.
_DRIFT = {
    "metabolic": {
        "29463-7": 0.015,
        "39156-5": 0.015,
        "8280-0": 0.012,
        "8480-6": 0.02,
        "8462-4": 0.015,
        "2345-7": 0.035,
        "4548-4": 0.025,
        "2571-8": 0.07,
        "18262-6": 0.03,
        "2093-3": 0.02,
        "3084-1": 0.03,
        "2085-9": -0.02,
        "1742-6": 0.04,
    },
    "improving": {
        "29463-7": -0.02,
        "39156-5": -0.02,
        "8280-0": -0.015,
        "8480-6": -0.03,
        "8462-4": -0.025,
        "2345-7": -0.03,
        "4548-4": -0.02,
        "2571-8": -0.08,
        "18262-6": -0.06,
        "2093-3": -0.04,
    },
    "liver": {"1742-6": 0.14, "1920-8": 0.10, "2324-2": 0.12, "2571-8": 0.05},
    "kidney": {"2160-0": 0.06, "3084-1": 0.04, "3094-0": 0.05, "33914-3": -0.05},
}
# Where an "improving" client starts: this far above the top of the reference range.
_IMPROVING_START = 1.2
_PROFILES = [("stable", 40), ("metabolic", 25), ("improving", 15), ("liver", 10), ("kidney", 10)]
_TUMOUR_AGE = 40


@dataclass(frozen=True)
class DemoPerson:
    id_number: str
    name: str
    sex: str
    birth_date: dt.date


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _centre(ind: catalogue.Indicator, sex: str, age: int) -> tuple[float, float] | None:
    rng_ = catalogue.reference_range(ind, sex=sex, age=age)
    if rng_ is None or (rng_.low is None and rng_.high is None):
        return None
    low = float(rng_.low) if rng_.low is not None else float(rng_.high) * 0.3
    high = float(rng_.high) if rng_.high is not None else low * 2.0
    return low, high


def _fmt(ind: catalogue.Indicator, value: float) -> str:
    q = Decimal(1).scaleb(-ind.decimals)
    return str(Decimal(str(value)).quantize(q))


def exam_days(rng: random.Random, today: dt.date) -> list[dt.date]:
    years = rng.randint(3, 8)
    month, day = rng.randint(3, 11), rng.randint(1, 28)
    days = []
    for back in range(years - 1, -1, -1):
        when = dt.date(today.year - back, month, day)
        if when > today:
            when = dt.date(today.year - back - 1, month, day) if back == 0 else when
        days.append(when)
    return sorted(set(days))


def _body(person: DemoPerson, rng: random.Random) -> dict[str, float]:
    """Height and weight have no reference range to start from: drawn from typical Chinese adult
    figures by sex (weight from a body-mass index of about 23)."""
    height = rng.gauss(170, 6) if person.sex == "M" else rng.gauss(158, 5)
    bmi = rng.gauss(24, 2.5) if person.sex == "M" else rng.gauss(22.5, 2.5)
    return {"8302-2": height, "29463-7": bmi * (height / 100) ** 2}


def _year_value(
    ind: catalogue.Indicator, start: float, drift: float, year_index: int, rng: random.Random
) -> float:
    """A year's value: the drifted baseline with the indicator's own within-subject variation
    (5 % where the catalogue has none; height barely moves), kept inside what is plausible."""
    cv = 0.003 if ind.code == "8302-2" else float(ind.cv_within or 5) / 100
    value = start * math.exp(drift * year_index) * (1 + rng.gauss(0, cv))
    if ind.plausible_low is not None:
        value = max(value, float(ind.plausible_low))
    if ind.plausible_high is not None:
        value = min(value, float(ind.plausible_high))
    return value


def person_series(
    person: DemoPerson, rng: random.Random, days: list[dt.date]
) -> dict[dt.date, dict[str, str]]:
    """Each exam day → {catalogue code: value as the exam centre writes it}."""
    profile = rng.choices([p for p, _w in _PROFILES], weights=[w for _p, w in _PROFILES])[0]
    drift = _DRIFT.get(profile, {})
    first_age = _age(person.birth_date, days[0])
    base: dict[str, float] = {}
    base.update(_body(person, rng))
    for ind in catalogue.all_indicators():
        if ind.kind != "quantity" or ind.code in base or ind.code == "39156-5":
            continue
        band = _centre(ind, person.sex, first_age)
        if band is None:
            continue
        low, high = band
        if profile == "improving" and ind.code in drift:
            up = drift[ind.code] < 0
            base[ind.code] = high * _IMPROVING_START if up else low * 0.9
        else:
            base[ind.code] = rng.uniform(low + (high - low) * 0.2, low + (high - low) * 0.75)
    out: dict[dt.date, dict[str, str]] = {}
    for year_index, day in enumerate(days):
        age = _age(person.birth_date, day)
        row: dict[str, str] = {}
        for code, start in base.items():
            ind = catalogue.get(code)
            if ind.panel == "tumour_markers" and age < _TUMOUR_AGE:
                continue
            row[code] = _fmt(ind, _year_value(ind, start, drift.get(code, 0.0), year_index, rng))
        if "8302-2" in row and "29463-7" in row:
            metres = float(row["8302-2"]) / 100
            row["39156-5"] = f"{float(row['29463-7']) / metres / metres:.1f}"
        for ind in catalogue.all_indicators():
            if ind.kind == "ordinal" and ind.ordinal_scale:
                abnormal = profile == "kidney" and ind.code == "2888-6" and year_index >= 2
                row[ind.code] = ind.ordinal_scale[min(year_index - 1, 2) if abnormal else 0]
        out[day] = row
    return out


def csv_for_year(entries: list[tuple[DemoPerson, dt.date, str, dict[str, str]]]) -> bytes:
    """One exam year's export in the long layout Chinese exam-centre systems write (UTF-8
    with a BOM, as Excel saves it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for person, day, exam_no, values in entries:
        for code, value in values.items():
            ind = catalogue.get(code)
            band = catalogue.reference_range(ind, sex=person.sex, age=_age(person.birth_date, day))
            writer.writerow(
                [
                    exam_no,
                    person.id_number,
                    person.name,
                    "男" if person.sex == "M" else "女",
                    day.isoformat(),
                    code,
                    ind.name_zh,
                    value,
                    ind.unit_display,
                    band.text if band else "",
                ]
            )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def seed_checkups(*, seed_value: int = 2026, today: dt.date | None = None) -> dict[str, int]:
    """Import the demo clients' check-ups once, one CSV per exam year, as the demo admin
    (陈管理员 runs imports: institution-level work). Idempotent: skipped when the demo exam
    centre's reports are already there."""
    from django.utils import timezone

    from careledger.accounts.models import User
    from careledger.clients.models import Client
    from careledger.crypto import keyring
    from careledger.exams import services
    from careledger.observations.models import Report

    admin = User.objects.filter(username="admin").first()
    if (
        admin is None
        or Report.objects.filter(institution_id=admin.institution_id, source_name=SOURCE).exists()
    ):
        return {"jobs": 0, "observations": 0}
    clients = list(Client.objects.filter(institution_id=admin.institution_id).order_by("id"))
    keyring.preload(clients, ["name", "document_number"])
    rng = random.Random(seed_value)
    today = today or timezone.localdate()
    by_year: dict[int, list[tuple[DemoPerson, dt.date, str, dict[str, str]]]] = {}
    for number, client in enumerate(clients):
        if client.document_type != "resident_id":
            continue
        person = DemoPerson(client.document_number, client.name, client.sex, client.birth_date)
        days = exam_days(rng, today)
        for day, values in person_series(person, rng, days).items():
            exam_no = f"TJ{day:%Y}{number:05d}"
            by_year.setdefault(day.year, []).append((person, day, exam_no, values))
    jobs = observations = 0
    for year in sorted(by_year):
        job = services.do_create_import(
            actor=admin,
            filename=f"体检结果导出_{year}.csv",
            data=csv_for_year(by_year[year]),
            source_name=SOURCE,
            fmt="csv",
            channel="cli",
            enqueue=False,
        )
        job = services.run_import(job.id)
        jobs += 1
        observations += job.imported
    return {"jobs": jobs, "observations": observations}


LAB = "市一医院检验科"
# The hospital laboratory's own codes: nothing maps them yet, so its results wait in the
# quarantine until the admin maps the codes at /config/codes/ (and then retries them there).
_LAB_CODES = [
    ("L0101", "葡萄糖(空腹)测定", "2345-7", "mmol/L"),
    ("L0205", "甘油三酯测定(酶法)", "2571-8", "mmol/L"),
    ("L0311", "丙氨酸氨基转移酶测定(速率法)", "1742-6", "U/L"),
]


def lab_feed_hl7(people: list[DemoPerson], rng: random.Random, day: dt.date) -> bytes:
    """An HL7 v2.5.1 ORU^R01 batch from a hospital laboratory, one message per person."""
    stamp = f"{day:%Y%m%d}0915"
    messages = []
    for n, person in enumerate(people, start=1):
        segments = [
            f"MSH|^~\\&|LIS|SY1|CARELEDGER|1001|{stamp}||ORU^R01|LAB{n:04d}|P|2.5.1|||||CHN|"
            "UNICODE UTF-8",
            f"PID|1||{person.id_number}^^^^NI||{person.name}||{person.birth_date:%Y%m%d}|"
            f"{person.sex}",
            f"OBR|1|O{n:05d}|F{day:%y%m%d}{n:04d}|BIO^生化检验|||{stamp}",
        ]
        for i, (code, name, loinc, unit) in enumerate(_LAB_CODES, start=1):
            ind = catalogue.get(loinc)
            band = catalogue.reference_range(ind, sex=person.sex, age=50)
            low = float(band.low or 0) if band else 1.0
            high = float(band.high) if band and band.high else low * 2
            value = _fmt(ind, rng.uniform(low * 0.9, high * 1.2))
            segments.append(f"OBX|{i}|NM|{code}^{name}^L||{value}|{unit}|||||F|||{stamp}")
        messages.append("\r".join(segments))
    return ("\r".join(messages) + "\r").encode("utf-8")


def seed_lab_feed(*, seed_value: int = 2026, today: dt.date | None = None) -> int:
    """Once: a small HL7 feed from a hospital laboratory whose codes are not mapped yet, plus a
    person who is not a client — so the quarantine and the code-mapping page have work in the
    demo. Returns the results it quarantined."""
    from django.utils import timezone

    from careledger.accounts.models import User
    from careledger.clients.models import Client
    from careledger.crypto import keyring
    from careledger.exams import services
    from careledger.exams.models import ImportJob

    admin = User.objects.filter(username="admin").first()
    if admin is None or ImportJob.objects.filter(source__name=LAB).exists():
        return 0
    rng = random.Random(seed_value + 1)
    clients = list(
        Client.objects.filter(
            institution_id=admin.institution_id, document_type="resident_id"
        ).order_by("created_at", "id")[:12]
    )
    keyring.preload(clients, ["name", "document_number"])
    people = [DemoPerson(c.document_number, c.name, c.sex, c.birth_date) for c in clients]
    people.append(DemoPerson("110101198502173416", "路人甲", "M", dt.date(1985, 2, 17)))
    day = (today or timezone.localdate()) - dt.timedelta(days=3)
    job = services.do_create_import(
        actor=admin,
        filename=f"LIS_{day:%Y%m%d}.hl7",
        data=lab_feed_hl7(people, rng, day),
        source_name=LAB,
        fmt="hl7v2",
        channel="cli",
        enqueue=False,
    )
    return services.run_import(job.id).quarantined
