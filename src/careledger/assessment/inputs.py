"""The clinical facts risk models read, gathered from the record for one client or a population.

One path for both: `gather(institution, client_ids)` builds a polars frame, one row per client,
in a fixed number of queries (clients, current results — read once, then ranked and maximised
in polars —, conditions, family history, lifestyle, medications, questionnaire scores) whatever
the number of clients. A single
client is the same call with one id, so the page and the nightly run cannot disagree.

Each fact has one documented derivation (`FACTS`); where the record cannot say (vegetables
every day, say), the fact is null and the models that need it answer "not applicable" naming
it, unless a clinician supplies it on the assessment page (`Source.CLINICIAN`). Derivations that
approximate are marked `derived` so the page shows them as such:

* `bp_treated` — an active hypertension diagnosis (I10–I15) together with at least one active
  medication entry. Medication names are sealed free text, not coded, so the class of drug is not
  known; the clinician confirms or corrects it on the page.
* `active_30min_daily` — at least 210 minutes of activity a week in the lifestyle entry.
* `ever_high_glucose` — a fasting glucose ≥ 6.1 mmol/L or HbA1c ≥ 5.7 % ever (current results),
  or a diabetes diagnosis; false when glucose was measured and never high; null otherwise.
* `family_diabetes` — "first" (parent, sibling, child), "second" (grandparent, aunt, uncle) or
  "none" from family-history entries E10–E14; `family_ascvd` — a parent or sibling with
  I20–I25, I63 or I64. With no family-history entry at all both are null (not asked).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from careledger.clients.models import Client
from careledger.observations.population import current_results, highest_from, latest_from
from careledger.records.models import (
    ClinicalStatus,
    ConditionEntry,
    EntryStatus,
    FamilyHistoryEntry,
    LifestyleEntry,
    MedicationEntry,
    MedicationStatus,
)


class Source(StrEnum):
    CLIENT = "client"  # the client's registration (age, sex)
    OBSERVATION = "observation"  # a result in the observation store
    RECORD = "record"  # the health record (conditions, family history, lifestyle)
    DERIVED = "derived"  # computed from the record by an approximation (see module docstring)
    QUESTIONNAIRE = "questionnaire"
    INSTITUTION = "institution"  # the institution's settings (China-PAR region)
    CLINICIAN = "clinician"  # supplied or corrected on the assessment page


@dataclass(frozen=True)
class FactSpec:
    name: str
    unit: str  # UCUM; "" for flags and codes
    source: Source
    code: str = ""  # LOINC for observations, ICD-10 ranges for conditions


# Observation facts: name → LOINC code (canonical units from the catalogue).
OBSERVATION_CODES = {
    "sbp": "8480-6",
    "dbp": "8462-4",
    "tc": "2093-3",
    "hdl": "2085-9",
    "ldl": "18262-6",
    "tg": "2571-8",
    "fpg": "2345-7",
    "glucose_2h": "1521-4",
    "hba1c": "4548-4",
    "creatinine": "2160-0",
    "waist": "8280-0",
    "bmi": "39156-5",
    "weight": "29463-7",
    "height": "8302-2",
}
_UNITS = {
    "sbp": "mm[Hg]",
    "dbp": "mm[Hg]",
    "tc": "mmol/L",
    "hdl": "mmol/L",
    "ldl": "mmol/L",
    "tg": "mmol/L",
    "fpg": "mmol/L",
    "glucose_2h": "mmol/L",
    "hba1c": "%",
    "creatinine": "umol/L",
    "waist": "cm",
    "bmi": "kg/m2",
    "weight": "kg",
    "height": "cm",
}
DIABETES = ("E10", "E11", "E12", "E13", "E14")
HYPERTENSION = ("I10", "I11", "I12", "I13", "I15")
ASCVD = ("I20", "I21", "I22", "I23", "I24", "I25", "I63", "I64")
FIRST_DEGREE = {"FTH", "MTH", "BRO", "SIS", "SON", "DAU"}
PARENTS_SIBLINGS = {"FTH", "MTH", "BRO", "SIS"}
HIGH_GLUCOSE = {"2345-7": 6.1, "4548-4": 5.7}
QUESTIONNAIRE_SCORES = {"phq9": "phq9", "gad7": "gad7"}

FACTS: dict[str, FactSpec] = {
    "age": FactSpec("age", "a", Source.CLIENT),
    "sex": FactSpec("sex", "", Source.CLIENT),
    **{
        name: FactSpec(name, _UNITS[name], Source.OBSERVATION, code)
        for name, code in OBSERVATION_CODES.items()
    },
    "smoker": FactSpec("smoker", "", Source.RECORD),
    "diabetes": FactSpec("diabetes", "", Source.RECORD, "E10-E14"),
    "hypertension": FactSpec("hypertension", "", Source.RECORD, "I10-I15"),
    "bp_treated": FactSpec("bp_treated", "", Source.DERIVED),
    "family_diabetes": FactSpec("family_diabetes", "", Source.RECORD, "E10-E14"),
    "family_ascvd": FactSpec("family_ascvd", "", Source.RECORD, "I20-I25,I63,I64"),
    "active_30min_daily": FactSpec("active_30min_daily", "", Source.DERIVED),
    "vegetables_daily": FactSpec("vegetables_daily", "", Source.CLINICIAN),
    "ever_high_glucose": FactSpec("ever_high_glucose", "", Source.DERIVED),
    "phq9": FactSpec("phq9", "{score}", Source.QUESTIONNAIRE),
    "gad7": FactSpec("gad7", "{score}", Source.QUESTIONNAIRE),
    "north": FactSpec("north", "", Source.INSTITUTION),
    "urban": FactSpec("urban", "", Source.INSTITUTION),
}

FACT_SCHEMA: dict[str, pl.DataType] = {
    "client_id": pl.Utf8,
    "age": pl.Int32,
    "sex": pl.Utf8,
    **{name: pl.Float64 for name in OBSERVATION_CODES},
    **{f"{name}_at": pl.Datetime("us", "UTC") for name in OBSERVATION_CODES},
    "smoker": pl.Boolean,
    "diabetes": pl.Boolean,
    "hypertension": pl.Boolean,
    "bp_treated": pl.Boolean,
    "family_diabetes": pl.Utf8,
    "family_ascvd": pl.Boolean,
    "active_30min_daily": pl.Boolean,
    "vegetables_daily": pl.Boolean,
    "ever_high_glucose": pl.Boolean,
    "phq9": pl.Float64,
    "gad7": pl.Float64,
    "north": pl.Boolean,
    "urban": pl.Boolean,
}


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _ids(client_ids: Sequence[uuid.UUID | str] | None) -> list[str] | None:
    return None if client_ids is None else [str(c) for c in client_ids]


def _clients(institution_id, ids, today: dt.date) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    rows = Client.objects.filter(institution_id=institution_id)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    data = list(rows.order_by().values_list("id", "sex", "birth_date").iterator(chunk_size=10000))
    return pl.DataFrame(
        {
            "client_id": [str(r[0]) for r in data],
            "age": [_age(r[2], today) for r in data],
            "sex": [r[1] for r in data],
        },
        schema={"client_id": pl.Utf8, "age": pl.Int32, "sex": pl.Utf8},
    )


def _observations(results: pl.DataFrame) -> pl.DataFrame:
    latest = latest_from(results)
    by_code = {code: name for name, code in OBSERVATION_CODES.items()}
    wide = latest.with_columns(pl.col("code").replace_strict(by_code).alias("fact")).pivot(
        on="fact", index="client_id", values=["value", "effective_at"]
    )
    renames = {}
    for name in OBSERVATION_CODES:
        renames[f"value_{name}"] = name
        renames[f"effective_at_{name}"] = f"{name}_at"
    wide = wide.rename({k: v for k, v in renames.items() if k in wide.columns})
    missing = [
        pl.lit(None, FACT_SCHEMA[c]).alias(c)
        for n in OBSERVATION_CODES
        for c in (n, f"{n}_at")
        if c not in wide.columns
    ]
    return wide.with_columns(missing) if missing else wide


def _ever_high_glucose(results: pl.DataFrame) -> pl.DataFrame:
    highest = highest_from(results.filter(pl.col("code").is_in(list(HIGH_GLUCOSE))))
    limit = pl.col("code").replace_strict(HIGH_GLUCOSE, return_dtype=pl.Float64)
    return highest.group_by("client_id").agg(
        (pl.col("value") >= limit).any().alias("ever_high_glucose")
    )


def _in_ranges(code: str, prefixes: tuple[str, ...]) -> bool:
    return code.upper().startswith(prefixes)


def _record(institution_id, ids) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Conditions, family history, lifestyle and medications: one query each."""
    facts: dict[str, dict[str, object]] = {}

    def scoped(model):  # type: ignore[no-untyped-def]
        rows = model.objects.filter(institution_id=institution_id, status=EntryStatus.ACTIVE)
        return (rows.filter(client_id__in=ids) if ids is not None else rows).order_by()

    def of(client_id) -> dict[str, object]:  # type: ignore[no-untyped-def]
        return facts.setdefault(str(client_id), {})

    conditions = scoped(ConditionEntry).exclude(clinical_status=ClinicalStatus.RESOLVED)
    for client_id, code in conditions.values_list("client_id", "code").iterator(chunk_size=10000):
        row = of(client_id)
        row["diabetes"] = bool(row.get("diabetes")) or _in_ranges(code, DIABETES)
        row["hypertension"] = bool(row.get("hypertension")) or _in_ranges(code, HYPERTENSION)
    family = scoped(FamilyHistoryEntry).values_list("client_id", "relation", "code")
    for client_id, relation, code in family.iterator(chunk_size=10000):
        row = of(client_id)
        degree = row.get("family_diabetes") or "none"
        if _in_ranges(code, DIABETES):
            degree = "first" if relation in FIRST_DEGREE or degree == "first" else "second"
        row["family_diabetes"] = degree
        ascvd = _in_ranges(code, ASCVD) and relation in PARENTS_SIBLINGS
        row["family_ascvd"] = bool(row.get("family_ascvd")) or ascvd
    lifestyle = scoped(LifestyleEntry).values_list(
        "client_id", "smoking", "activity_minutes_per_week"
    )
    for client_id, smoking, minutes in lifestyle.iterator(chunk_size=10000):
        row = of(client_id)
        row["smoker"] = smoking == "current"
        row["active_30min_daily"] = None if minutes is None else minutes >= 210
    medicated = scoped(MedicationEntry).filter(medication_status=MedicationStatus.ACTIVE)
    for client_id in medicated.values_list("client_id", flat=True).distinct().iterator():
        of(client_id)["medicated"] = True
    schema = {
        "client_id": pl.Utf8,
        "diabetes": pl.Boolean,
        "hypertension": pl.Boolean,
        "family_diabetes": pl.Utf8,
        "family_ascvd": pl.Boolean,
        "smoker": pl.Boolean,
        "active_30min_daily": pl.Boolean,
        "medicated": pl.Boolean,
    }
    return pl.DataFrame(
        [{"client_id": cid, **values} for cid, values in facts.items()], schema=schema
    )


def _questionnaires(institution_id, ids) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    schema = {"client_id": pl.Utf8, **{name: pl.Float64 for name in QUESTIONNAIRE_SCORES}}
    try:
        from careledger.questionnaires.facts import latest_scores
    except ImportError:  # the questionnaire engine is not installed in this build
        return pl.DataFrame(schema=schema)
    scores = latest_scores(institution_id=institution_id, client_ids=ids)
    wanted = scores.filter(pl.col("instrument").is_in(list(QUESTIONNAIRE_SCORES.values())))
    if wanted.is_empty():
        return pl.DataFrame(schema=schema)
    wide = wanted.pivot(on="instrument", index="client_id", values="score")
    return wide.with_columns(
        [pl.lit(None, pl.Float64).alias(n) for n in QUESTIONNAIRE_SCORES if n not in wide.columns]
    ).select(list(schema))


def gather(
    *,
    institution,  # type: ignore[no-untyped-def]
    client_ids: Sequence[uuid.UUID | str] | None = None,
    today: dt.date,
) -> pl.DataFrame:
    """One row per client of the institution (or of `client_ids`) with every fact in
    `FACT_SCHEMA`; a fact the record cannot give is null."""
    ids = _ids(client_ids)
    frame = _clients(institution.id, ids, today)
    # One read of the results for both the latest values and the highest glucose.
    codes = sorted({*OBSERVATION_CODES.values(), *HIGH_GLUCOSE})
    results = current_results(institution_id=institution.id, codes=codes, client_ids=ids)
    for part in (
        _observations(results),
        _ever_high_glucose(results),
        _record(institution.id, ids),
        _questionnaires(institution.id, ids),
    ):
        frame = frame.join(part, on="client_id", how="left")
    measured = pl.col("fpg").is_not_null() | pl.col("hba1c").is_not_null()
    frame = frame.with_columns(
        pl.col("diabetes").fill_null(False),
        pl.col("hypertension").fill_null(False),
        (pl.col("hypertension").fill_null(False) & pl.col("medicated").fill_null(False)).alias(
            "bp_treated"
        ),
        pl.when(pl.col("diabetes").fill_null(False) | pl.col("ever_high_glucose").fill_null(False))
        .then(True)
        .when(measured)
        .then(False)
        .otherwise(None)
        .alias("ever_high_glucose"),
        pl.lit(None, pl.Boolean).alias("vegetables_daily"),
        pl.lit(institution.serves_north, pl.Boolean).alias("north"),
        pl.lit(institution.serves_urban, pl.Boolean).alias("urban"),
    )
    return frame.select([pl.col(name).cast(kind) for name, kind in FACT_SCHEMA.items()])
