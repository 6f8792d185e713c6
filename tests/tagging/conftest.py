"""Builders for the tagging tests: clients with results, conditions and lifestyle written
through the real services (the import pipeline and the record services), tags and published
rules through the tagging services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from careledger.clients.models import Client
from careledger.exams import services as exam_services
from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds
from careledger.exams.pipeline import land_reports
from careledger.records.services import do_add_entry
from careledger.tagging import services
from careledger.tagging.evaluation import reevaluate
from careledger.tagging.services import TagInput

_report = itertools.count(1)


class Lab:
    """Results for a client through the import pipeline (one report per call)."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.job = exam_services.do_create_import(
            actor=world.admin,
            filename="lab.csv",
            data=b"x,y\n1,2\n",
            source_name="lab",
            fmt="csv",
            channel="cli",
            enqueue=False,
        )

    def results(self, client: Client, when: dt.datetime, values: dict[str, tuple[str, str]]):  # type: ignore[no-untyped-def]
        n = next(_report)
        parsed = [
            ParsedResult(f"r{n}", code, "", "LN", value, unit, "", "")
            for code, (value, unit) in values.items()
        ]
        report = ParsedReport(
            0, "x", PatientIds(id_number=client.document_number), f"R{n}", when, parsed
        )
        return land_reports(job=self.job, reports=[report], actor=self.world.admin)


@pytest.fixture
def lab(world):  # type: ignore[no-untyped-def]
    return Lab(world)


def at(year: int, month: int = 6, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, 8, 30, tzinfo=dt.UTC)


def person(world, **overrides: Any) -> Client:  # type: ignore[no-untyped-def]
    return Client.objects.get(pk=world.enrol(**overrides).client_id)


def condition(world, client: Client, code: str, status: str = "active") -> None:  # type: ignore[no-untyped-def]
    do_add_entry(
        actor=world.manager,
        client_id=client.id,
        section="conditions",
        data={"code": code, "onset": "2015", "clinical_status": status, "note": ""},
    )


def publish(world, code: str, expression: str, name: str = ""):  # type: ignore[no-untyped-def]
    """A tag with its rule published (the evaluation the publish enqueues is run by callers)."""
    tag = services.do_create_tag(
        actor=world.admin,
        data=TagInput(code=code, name_zh=name or code, category="disease", colour="red"),
        expression=expression,
    )
    rule = tag.rules.get()
    services.do_publish_rule(actor=world.admin, rule_id=rule.id)
    return tag


def run(world, client_ids=None, trigger="test"):  # type: ignore[no-untyped-def]
    return reevaluate(institution_id=world.inst.id, client_ids=client_ids, trigger=trigger)


@pytest.fixture(autouse=True)
def _english_messages():  # type: ignore[no-untyped-def]
    from django.utils import translation

    with translation.override("en"):
        yield
