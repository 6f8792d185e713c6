"""Fixtures for the questionnaire tests: a client of team A, the built-in instruments loaded for
the institution, and answer sets that give known scores — all through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.clients.models import Client
from careledger.questionnaires import config_services
from careledger.questionnaires.models import Questionnaire, Status


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    """A client of team A (the manager's, doctor's and nurse's team)."""
    enrolled = world.enrol(name="欧阳明月", birth_date=dt.date(1970, 3, 9), sex="M")
    return Client.objects.get(pk=enrolled.client_id)


@pytest.fixture
def builtin(world):  # type: ignore[no-untyped-def]
    """The built-in instruments of the first institution, by code."""
    config_services.ensure_builtin(institution_id=world.inst.id)
    return {
        q.code: q
        for q in Questionnaire.objects.filter(institution=world.inst, status=Status.PUBLISHED)
    }


def phq9_answers(*scores: int, item10: str = "1") -> dict[str, str]:
    """PHQ-9 answers with the given item scores (items 1..9, in order)."""
    assert len(scores) == 9
    out = {f"phq9_{n}": str(s) for n, s in enumerate(scores, start=1)}
    out["phq9_10"] = item10
    return out


def gad7_answers(*scores: int) -> dict[str, str]:
    assert len(scores) == 7
    return {f"gad7_{n}": str(s) for n, s in enumerate(scores, start=1)}


@pytest.fixture(autouse=True)
def _english_messages():  # type: ignore[no-untyped-def]
    """Assertions read the English wording; pages that test Chinese switch explicitly."""
    from django.utils import translation

    with translation.override("en"):
        yield
