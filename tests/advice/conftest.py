"""Builders for the advice tests: a client of team A, and the facts their advice rests on made
through the real services of the apps that own them — manual tags (tagging), a vital-sign set
assessed by the risk models (records + assessment), PHQ-9 and TCM answers (questionnaires)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from careledger.clients.models import Client


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    """A client of team A (the manager's, doctor's and nurse's team), born 1970."""
    enrolled = world.enrol(name="欧阳明月", birth_date=dt.date(1970, 3, 9), sex="M")
    return Client.objects.get(pk=enrolled.client_id)


def tag(world, client: Client, code: str, name: str = "") -> None:  # type: ignore[no-untyped-def]
    """The care team's health manager applies tag `code` by hand (the admin defines it once)."""
    from careledger.tagging.models import TagDefinition
    from careledger.tagging.services import TagInput, do_apply_manual_tag, do_create_tag

    definition = TagDefinition.objects.filter(institution=world.inst, code=code).first()
    if definition is None:
        definition = do_create_tag(
            actor=world.admin, data=TagInput(code=code, name_zh=name or code, category="disease")
        )
    do_apply_manual_tag(
        actor=world.manager, client_id=client.id, tag_id=definition.id, reason="体检复核后标注"
    )


def blood_pressure(world, client: Client, sbp: int, dbp: int) -> None:  # type: ignore[no-untyped-def]
    """A vital-sign set in the record, then the doctor runs the risk models."""
    from careledger.assessment.services import do_assess_client
    from careledger.records.services import do_add_entry

    do_add_entry(
        actor=world.manager,
        client_id=client.id,
        section="vitals",
        data={
            "measured_at": timezone.now() - dt.timedelta(hours=1),
            "sbp": Decimal(sbp),
            "dbp": Decimal(dbp),
            "heart_rate": Decimal(76),
            "height": Decimal("170.0"),
            "weight": Decimal("68.0"),
            "waist": Decimal("84.0"),
        },
    )
    do_assess_client(actor=world.doctor, client_id=client.id)


def answer(world, client: Client, code: str, answers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The manager fills a built-in questionnaire on the client's behalf and submits it."""
    from careledger.questionnaires import config_services
    from careledger.questionnaires.models import Questionnaire, Status
    from careledger.questionnaires.services import do_save_response, do_start_response

    config_services.ensure_builtin(institution_id=world.inst.id)
    q = Questionnaire.objects.get(institution=world.inst, code=code, status=Status.PUBLISHED)
    response = do_start_response(actor=world.manager, client_id=client.id, questionnaire_id=q.id)
    do_save_response(
        actor=world.manager,
        client_id=client.id,
        response_id=response.id,
        answers=answers,
        submit=True,
    )


def phq9(*scores: int) -> dict[str, str]:
    out = {f"phq9_{n}": str(s) for n, s in enumerate(scores, start=1)}
    out["phq9_10"] = "1"
    return out


@pytest.fixture(autouse=True)
def _english_messages():  # type: ignore[no-untyped-def]
    """Assertions read the English wording; pages that test Chinese switch explicitly."""
    from django.utils import translation

    with translation.override("en"):
        yield


def tcm(*high: str) -> dict[str, str]:
    """TCM constitution answers: every item 没有 (1) except the named constitutions' items,
    answered 总是 (5) — those constitutions are then judged 是."""
    import json
    from pathlib import Path

    import careledger.questionnaires as q

    definition = json.loads(
        (Path(q.__file__).parent / "instruments" / "tcm_constitution.json").read_text("utf-8")
    )
    out: dict[str, str] = {}

    def walk(items):  # type: ignore[no-untyped-def]
        for it in items:
            if it["type"] == "group":
                walk(it.get("item", []))
            elif it["type"] == "choice":
                group = it["linkId"].split("_")[0]
                out[it["linkId"]] = "5" if group in high else "1"

    walk(definition["item"])
    out["sex"] = "M"
    return out
