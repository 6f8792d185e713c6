"""Questionnaire scores and risk levels as facts, from the apps that own them (their own
services write the data; the tagging facts read it through their facts modules)."""

from __future__ import annotations

import pytest
from tests.tagging.conftest import at, person, publish, run

from careledger.assessment import services as assessment
from careledger.questionnaires import config_services
from careledger.questionnaires import services as questionnaires
from careledger.questionnaires.models import Questionnaire, Status
from careledger.tagging import vocabulary
from careledger.tagging.models import ClientTag, TagEvent

pytestmark = pytest.mark.django_db


def test_both_sources_are_installed_so_nothing_is_reported_unavailable():
    assert vocabulary.unavailable() == frozenset()


def test_a_phq9_score_and_band_fire_a_rule(world):
    client = person(world)
    other = person(world)
    config_services.ensure_builtin(institution_id=world.inst.id)
    phq9 = Questionnaire.objects.get(institution=world.inst, code="phq9", status=Status.PUBLISHED)
    for who, scores in ((client, [2, 2, 2, 2, 1, 1, 1, 1, 0]), (other, [0] * 9)):
        response = questionnaires.do_start_response(
            actor=world.manager, client_id=who.id, questionnaire_id=phq9.id
        )
        answers = {f"phq9_{n}": str(s) for n, s in enumerate(scores, start=1)}
        answers["phq9_10"] = "1"
        questionnaires.do_save_response(
            actor=world.manager,
            client_id=who.id,
            response_id=response.id,
            answers=answers,
            submit=True,
        )
    publish(world, "depression_screen", "score('phq9') >= 10 and band('phq9') <> 'minimal'")

    run(world)

    assert list(ClientTag.objects.values_list("client_id", flat=True)) == [client.id]
    facts = TagEvent.objects.get().facts
    assert facts["score:phq9"] == 12.0 and facts["band:phq9"] not in (None, "minimal")


def test_a_risk_level_fires_a_rule(world, lab):
    client = person(world)
    lab.results(client, at(2026, 5, 1), {"8480-6": ("146", "mmHg"), "8462-4": ("92", "mmHg")})
    assessment.do_assess_client(actor=world.doctor, client_id=client.id)
    publish(world, "bp_grade_1", "risk('bp_grade') = 'grade_1'")

    run(world)

    event = TagEvent.objects.get(client=client)
    assert event.facts == {"risk:bp_grade": "grade_1"}
