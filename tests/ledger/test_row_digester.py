"""`RowDigester` (digests of many rows from their values, for the report import) gives exactly
`row_digest` of the same rows: on any values a writer may hold (property test, no database), on
rows read back from the database, and a parent given its children's digests digests as one
that reads its children back."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.ledger.rows import RowDigester, row_digest
from careledger.observations.models import Observation, Report

DIGESTER = RowDigester(Observation)
ZONES = [dt.UTC, ZoneInfo("Asia/Shanghai"), dt.timezone(dt.timedelta(hours=-5, minutes=-30))]

aware = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).flatmap(
    lambda d: st.sampled_from(ZONES).map(lambda z: d.replace(tzinfo=z))
)
# Text as labs write it and worse: quotes, backslashes, control characters, CJK, emoji.
text = st.text(max_size=20) | st.sampled_from(['"', "\\", "\n\t", "\x00\x1f", "阴性", "µmol/L"])
decimal = st.decimals(allow_nan=False, allow_infinity=False, places=6, max_value=10**13)
ident = st.uuids() | st.uuids().map(str)  # a writer may hold an id as text: the general path

row = st.fixed_dictionaries(
    {
        "id": ident,
        "institution_id": ident,
        "client_id": ident,
        "report_id": ident,
        "code": text,
        "effective_at": aware | st.datetimes(),  # naive too: written as is, like row_digest
        "value": st.none() | decimal | st.integers(-1000, 1000).map(Decimal),
        "comparator": text,
        "value_text": text,
        "unit": text,
        "flag": text,
        "source_code": text,
        "source_value": text,
        "source_unit": text,
        "source_range": text,
        "source_flag": text,
        "is_current": st.booleans(),
        "superseded_at": st.none() | aware,
        "created_at": aware,
    }
)


def values_of(data: dict) -> list:  # type: ignore[type-arg]
    return [data[name] for name in DIGESTER.attnames]


@settings(max_examples=300, deadline=None)
@given(st.lists(row, min_size=1, max_size=6))
def test_digests_from_values_equal_row_digest_of_the_same_rows(rows):
    expected = [row_digest(Observation(**data)) for data in rows]
    values = [values_of(data) for data in rows]
    assert DIGESTER.digest_many(values) == expected
    # What a parent is given as its children's digests: [str(pk), digest], as row_digest makes.
    pairs = [
        (str(Observation(**data).pk), digest) for data, digest in zip(rows, expected, strict=True)
    ]
    assert DIGESTER.digest_pairs(values) == pairs


@settings(max_examples=50, deadline=None)
@given(row, st.integers(2, 50))
def test_a_column_of_repeated_values_digests_as_each_row_alone(data, copies):
    # The parent's ids and the times repeat down a report's rows and are written once.
    rows = [dict(data, id=uuid.uuid4()) for _ in range(copies)]
    assert DIGESTER.digest_many([values_of(r) for r in rows]) == [
        row_digest(Observation(**r)) for r in rows
    ]


def test_a_value_the_column_cannot_hold_is_refused_like_row_digest():
    data = {name: "" for name in DIGESTER.attnames}
    data.update(
        id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        report_id=uuid.uuid4(),
        effective_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        is_current=True,
        superseded_at=None,
        value=Decimal("NaN"),
    )
    with pytest.raises(ValidationError):
        row_digest(Observation(**data))
    with pytest.raises(ValidationError):
        DIGESTER.digest_many([values_of(data)])


def test_rows_of_the_wrong_width_and_models_with_children_are_refused():
    with pytest.raises(ValueError, match="expected"):
        DIGESTER.digest_many([[uuid.uuid4()]])
    with pytest.raises(ValueError, match="seals children"):
        RowDigester(Report)


@pytest.mark.django_db
def test_rows_read_back_digest_alike_and_a_parent_given_its_childrens_digests_too(world):
    from tests.conftest import make_citizen_id
    from tests.exams.pipeline_kit import make_job, report, result

    from careledger.exams.pipeline import land_reports
    from careledger.ledger.models import RowSeal

    number = make_citizen_id(dt.date(1966, 7, 8), "F", 5)
    world.enrol(document_number=number, sex="F", birth_date=dt.date(1966, 7, 8))
    land_reports(
        job=make_job(world.admin),
        actor=world.admin,
        reports=[
            report(
                result("2345-7", "126", "mg/dL", range='70-110 "fasting"', flag="H\\"),
                result("2888-6", "1+"),
                result("704-7", "0", "10^9/L"),
                id_number=number,
            )
        ],
    )
    stored = list(Observation.objects.order_by("id"))
    assert DIGESTER.digest_many(
        [[obs.__dict__[name] for name in DIGESTER.attnames] for obs in stored]
    ) == [row_digest(obs) for obs in stored]

    read_back = Report.objects.get()  # its digest reads the children (sealed_children)
    given_digests = Report.objects.get()
    given_digests._sealed_child_digests = [  # type: ignore[attr-defined]
        (obs.pk, row_digest(obs)) for obs in reversed(stored)
    ]
    seal = RowSeal.objects.get(table="observations_report", row_id=str(read_back.pk))
    assert seal.digest == row_digest(read_back) == row_digest(given_digests)
