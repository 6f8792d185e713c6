"""Questionnaire services and selectors on the database: immutable published versions, progress
kept, scores stored as coded data and marked latest, free text sealed, every write and read
ledgered, and every role that may not is refused (and the refusal ledgered)."""

from __future__ import annotations

import json
import logging

import pytest

from careledger.access.enforce import AccessDenied
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify
from careledger.questionnaires import config_services, selectors, services
from careledger.questionnaires.config_services import builtin_resource
from careledger.questionnaires.models import (
    Questionnaire,
    QuestionnaireResponse,
    ResponseScore,
    Status,
)
from questionnaires.conftest import phq9_answers
from test_no_plaintext_at_rest import dump_database

pytestmark = pytest.mark.django_db


def events(action: str, **filters) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = LedgerEntry.objects.filter(action=action, **filters).order_by("seq")
    return [json.loads(r.leaf) for r in rows]


def fill(world, member, questionnaire, answers, *, actor=None, submit=True):  # type: ignore[no-untyped-def]
    actor = actor or world.manager
    started = services.do_start_response(
        actor=actor, client_id=member.id, questionnaire_id=questionnaire.id
    )
    return services.do_save_response(
        actor=actor, client_id=member.id, response_id=started.id, answers=answers, submit=submit
    )


# -- versions ---------------------------------------------------------------------------------


def custom(title: str = "睡眠问卷") -> dict:
    return {
        "resourceType": "Questionnaire",
        "url": "https://example.org/fhir/Questionnaire/sleep",
        "name": "sleep",
        "title": title,
        "status": "active",
        "item": [
            {"linkId": "hours", "type": "integer", "text": "每晚睡几小时？", "required": True}
        ],
    }


def test_import_makes_a_draft_and_a_published_version_is_immutable(world):
    draft = config_services.do_import(actor=world.admin, data=custom())
    assert (draft.status, draft.version, draft.resource["status"]) == (Status.DRAFT, 1, "draft")
    published = config_services.do_publish(actor=world.admin, questionnaire_id=draft.id)
    assert published.resource["status"] == "active" and published.published_at
    with pytest.raises(ValidationFailed):
        config_services.do_update_draft(
            actor=world.admin, questionnaire_id=draft.id, resource=custom("改过的标题")
        )
    assert Questionnaire.objects.get(pk=draft.id).title == "睡眠问卷"


def test_editing_a_published_questionnaire_makes_a_new_version_and_answers_keep_theirs(
    world, member
):
    v1 = config_services.do_import(actor=world.admin, data=custom())
    config_services.do_publish(actor=world.admin, questionnaire_id=v1.id)
    answered = fill(world, member, v1, {"hours": "7"})
    v2 = config_services.do_new_version(actor=world.admin, questionnaire_id=v1.id)
    assert (v2.version, v2.status, v2.url) == (2, Status.DRAFT, v1.url)
    assert config_services.do_new_version(actor=world.admin, questionnaire_id=v1.id) == v2
    config_services.do_update_draft(
        actor=world.admin, questionnaire_id=v2.id, resource=custom("睡眠问卷（第二版）")
    )
    config_services.do_publish(actor=world.admin, questionnaire_id=v2.id)
    assert Questionnaire.objects.get(pk=v1.id).status == Status.RETIRED
    response = QuestionnaireResponse.objects.get(pk=answered.response_id)
    assert response.questionnaire_id == v1.id
    assert Questionnaire.objects.get(pk=v1.id).resource["title"] == "睡眠问卷"
    assert [e["detail"]["op"] for e in events("questionnaire.define")] == [
        "import",
        "publish",
        "new_version",
        "update",
        "publish",
    ]
    assert verify().ok


def test_a_published_version_changed_behind_the_back_is_reported(world):
    row = config_services.do_import(actor=world.admin, data=custom())
    config_services.do_publish(actor=world.admin, questionnaire_id=row.id)
    Questionnaire.objects.filter(pk=row.pk).update(title="篡改")
    assert any("questionnaires_questionnaire" in p for p in verify().problems)


def test_a_definition_the_engine_cannot_run_is_refused_with_reasons(world):
    broken = {**custom(), "item": [{"linkId": "a", "type": "choice", "text": "x"}]}
    with pytest.raises(ValidationFailed) as caught:
        config_services.do_import(actor=world.admin, data=broken)
    assert any("answerOption" in m for m in caught.value.errors["resource"])


def test_builtins_load_once_and_an_institutions_edits_are_kept(world):
    assert config_services.ensure_builtin(institution_id=world.inst.id) == 4
    assert config_services.ensure_builtin(institution_id=world.inst.id) == 0
    phq9 = Questionnaire.objects.get(institution=world.inst, code="phq9")
    config_services.do_retire(actor=world.admin, questionnaire_id=phq9.id)
    assert config_services.ensure_builtin(institution_id=world.inst.id) == 0
    assert Questionnaire.objects.filter(institution=world.inst, code="phq9").count() == 1
    assert config_services.ensure_builtin(institution_id=world.other_inst.id) == 4


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst", "outsider"])
def test_only_the_institution_admin_configures(world, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        config_services.do_import(actor=user, data=custom())
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").exists()


def test_an_admin_cannot_touch_another_institutions_questionnaire(world):
    config_services.ensure_builtin(institution_id=world.other_inst.id)
    theirs = Questionnaire.objects.filter(institution=world.other_inst).first()
    with pytest.raises(Questionnaire.DoesNotExist):
        config_services.do_retire(actor=world.admin, questionnaire_id=theirs.id)


# -- responses --------------------------------------------------------------------------------


def test_progress_is_kept_and_resumed_and_a_bad_submission_stays_in_progress(
    world, member, builtin
):
    partial = fill(world, member, builtin["phq9"], {"phq9_1": "2", "phq9_2": "1"}, submit=False)
    assert partial.status == "in_progress" and partial.ok
    again = services.do_start_response(
        actor=world.doctor, client_id=member.id, questionnaire_id=builtin["phq9"].id
    )
    assert again.id == partial.response_id  # resumed, not a second response
    view = selectors.response_for_filling(world.doctor, member.id, again.id)
    assert view.answers == {"phq9_1": ["2"], "phq9_2": ["1"]}
    refused = services.do_save_response(
        actor=world.doctor,
        client_id=member.id,
        response_id=again.id,
        answers={"phq9_1": "2", "phq9_2": "9"},
        submit=True,
    )
    assert refused.status == "in_progress"
    assert [p.message() for p in refused.problems][:2] == [
        "Question 2: choose one of the options.",
        "Question 3 is required.",
    ]
    assert not ResponseScore.objects.filter(client=member).exists()


def test_a_submission_stores_coded_scores_marks_them_latest_and_ledgers_every_step(
    world, member, builtin
):
    first = fill(world, member, builtin["phq9"], phq9_answers(3, 3, 2, 2, 1, 1, 1, 1, 1))
    assert first.submitted and {s.code: s.value for s in first.scores} == {
        "phq9": 15,
        "phq9_item9": 1,
    }
    rows = {r.instrument: r for r in ResponseScore.objects.filter(response_id=first.response_id)}
    assert (rows["phq9"].band, rows["phq9_item9"].flag) == ("moderately_severe", True)
    second = fill(world, member, builtin["phq9"], phq9_answers(0, 0, 0, 0, 0, 0, 0, 1, 0))
    latest = ResponseScore.objects.filter(client=member, is_latest=True)
    assert {(r.instrument, r.response_id) for r in latest} == {
        ("phq9", second.response_id),
        ("phq9_item9", second.response_id),
    }
    submitted = events("questionnaire.response.submit", client_id=str(member.id))
    assert len(submitted) == 2
    assert any(s["table"] == "questionnaires_questionnaireresponse" for s in submitted[1]["seals"])
    # the first response's scores stopped being latest: it is sealed again in the same event
    assert {s["id"] for s in submitted[1]["seals"]} == {
        str(first.response_id),
        str(second.response_id),
    }
    assert events("questionnaire.response.start", client_id=str(member.id))
    assert verify().ok
    with pytest.raises(ValidationFailed):
        services.do_save_response(
            actor=world.manager,
            client_id=member.id,
            response_id=second.response_id,
            answers={},
            submit=True,
        )


def test_a_score_changed_behind_the_back_is_reported(world, member, builtin):
    saved = fill(world, member, builtin["phq9"], phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, 0))
    ResponseScore.objects.filter(response_id=saved.response_id, instrument="phq9").update(score=0)
    problems = verify().problems
    assert any(str(saved.response_id) in p for p in problems), problems


INTAKE = {
    "past_conditions": ["I10"],
    "past_conditions_other": "甲状腺结节随访中",
    "surgery": "true",
    "surgery_detail": "2015年腹腔镜胆囊切除术",
    "symptoms": ["insomnia"],
    "takes_medication": "true",
    "medications": "苯磺酸氨氯地平片 5mg 每日一次",
    "has_allergy": "false",
    "family_history": ["E11"],
    "smoking": "current",
    "cigarettes_per_day": "15",
    "smoking_years": "20",
    "alcohol": "never",
    "diet_pattern": "meat_heavy",
    "salt": "high",
    "exercise": "false",
    "sleep_hours": "6.5",
    "sleep_quality": "fair",
}
FREE_TEXT = ["甲状腺结节随访中", "2015年腹腔镜胆囊切除术", "苯磺酸氨氯地平片 5mg 每日一次"]


def test_free_text_answers_are_sealed_and_coded_answers_stay_clear(world, member, builtin, caplog):
    caplog.set_level(logging.DEBUG)
    saved = fill(world, member, builtin["intake"], INTAKE)
    assert saved.submitted, saved.problems
    detail = selectors.response_detail(world.nurse, member.id, saved.response_id)
    assert detail.answers["medications"] == [FREE_TEXT[2]]
    selectors.responses_fhir(world.manager, member.id)
    dump = dump_database()
    for text in FREE_TEXT:
        for form in (text, json.dumps(text)[1:-1], text.encode().hex()):
            assert form not in dump, f"plaintext in the database: {text[:2]}…"
        assert text not in caplog.text
    row = QuestionnaireResponse.objects.get(pk=saved.response_id)
    assert row.answers["smoking"] == ["current"] and row.answers["cigarettes_per_day"] == [15]
    assert "medications" not in row.answers
    assert verify().ok


def test_reads_are_ledgered_and_an_emergency_read_says_so(world, member, builtin):
    saved = fill(world, member, builtin["gad7"], {f"gad7_{n}": "1" for n in range(1, 8)})
    listing = selectors.client_questionnaires(world.nurse, member.id)
    assert listing.responses[0].scores[0].code == "gad7"
    assert listing.responses[0].scores[0].band == "mild"
    selectors.response_detail(world.doctor, member.id, saved.response_id)
    assert events("questionnaire.response.list", actor_id=str(world.nurse.id))
    viewed = events("questionnaire.response.view", actor_id=str(world.doctor.id))
    assert viewed[-1]["resource"] == {
        "type": "QuestionnaireResponse",
        "id": str(saved.response_id),
    }


STAFF_WHO_MAY_NOT_FILL = ["admin", "auditor", "analyst", "manager_b", "outsider"]
STAFF_WHO_MAY_NOT_READ = ["admin", "auditor", "analyst", "manager_b", "outsider"]


def test_the_follow_up_nurse_may_fill_in_a_questionnaire_during_a_call(world, member, builtin):
    started = services.do_start_response(
        actor=world.nurse, client_id=member.id, questionnaire_id=builtin["phq9"].id
    )
    assert started.client_id == member.id and started.author_id == world.nurse.id
    assert events("questionnaire.response.start", actor_id=str(world.nurse.id))


@pytest.mark.parametrize("who", STAFF_WHO_MAY_NOT_FILL)
def test_who_may_not_fill_is_refused_and_ledgered(world, member, builtin, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.do_start_response(
            actor=user, client_id=member.id, questionnaire_id=builtin["phq9"].id
        )
    denied = events("questionnaire.response.write", actor_id=str(user.id), outcome="denied")
    assert denied and denied[-1]["client"] == str(member.id)
    assert not QuestionnaireResponse.objects.filter(client=member).exists()


@pytest.mark.parametrize("who", STAFF_WHO_MAY_NOT_READ)
def test_who_may_not_read_is_refused_and_ledgered(world, member, builtin, who):
    saved = fill(world, member, builtin["phq9"], phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, 1))
    user = getattr(world, who)
    for read in (
        lambda: selectors.client_questionnaires(user, member.id),
        lambda: selectors.response_detail(user, member.id, saved.response_id),
        lambda: selectors.responses_fhir(user, member.id),
    ):
        before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        with pytest.raises(AccessDenied):
            read()
        assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count() > before
    with pytest.raises(AccessDenied):
        services.do_save_response(
            actor=user, client_id=member.id, response_id=saved.response_id, answers={}, submit=True
        )


def test_a_response_id_of_another_client_is_not_found(world, member, builtin):
    other = world.enrol(name="司马青衫")
    saved = fill(world, member, builtin["phq9"], phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, 1))
    with pytest.raises(QuestionnaireResponse.DoesNotExist):
        selectors.response_detail(world.manager, other.client_id, saved.response_id)


def test_a_draft_or_retired_questionnaire_cannot_be_started(world, member):
    draft = config_services.do_import(actor=world.admin, data=custom())
    with pytest.raises(ValidationFailed):
        services.do_start_response(
            actor=world.manager, client_id=member.id, questionnaire_id=draft.id
        )


def test_the_fhir_export_is_a_bundle_of_valid_questionnaire_responses(world, member, builtin):
    from fhir.resources.R4B.bundle import Bundle

    fill(world, member, builtin["intake"], INTAKE)
    fill(world, member, builtin["phq9"], phq9_answers(1, 1, 1, 1, 1, 1, 1, 1, 1), submit=False)
    bundle = selectors.responses_fhir(world.manager, member.id)
    Bundle.model_validate(bundle)
    statuses = sorted(e["resource"]["status"] for e in bundle["entry"])
    assert statuses == ["completed", "in-progress"]
    assert builtin_resource("intake")["url"] in bundle["entry"][1]["resource"]["questionnaire"]
    assert events("questionnaire.response.export", client_id=str(member.id))
