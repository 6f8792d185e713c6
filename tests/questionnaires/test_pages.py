"""The staff pages: list with scores, start, fill (progress, messages next to the item, submit),
view, send a link, FHIR export; who sees which page."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from careledger.celery import app as celery_app
from careledger.questionnaires.models import QuestionnaireResponse, ResponseLink
from questionnaires.conftest import phq9_answers

pytestmark = pytest.mark.django_db


def url(member, page: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/clients/{member.id}/questionnaires/{page}"


def post_answers(answers: dict[str, object], op: str) -> dict[str, object]:
    return {**{f"a.{k}": v for k, v in answers.items()}, "op": op}


def start(http, member, questionnaire):  # type: ignore[no-untyped-def]
    response = http.post(url(member), {"questionnaire": str(questionnaire.id)})
    assert response.status_code == 302
    return response["Location"]


def test_the_care_team_starts_saves_and_submits_a_phq9(world, member, builtin, login):
    http = login(world.manager)
    fill_url = start(http, member, builtin["phq9"])
    page = http.get(fill_url)
    assert page.status_code == 200 and "做事时提不起劲或没有兴趣" in page.content.decode()
    saved = http.post(fill_url, post_answers({"phq9_1": "2", "phq9_2": "1"}, "save"))
    assert saved.status_code == 302 and saved["Location"] == fill_url
    resumed = http.get(fill_url).content.decode()
    assert 'value="2" checked' in resumed
    done = http.post(fill_url, post_answers(phq9_answers(2, 2, 2, 2, 2, 1, 1, 1, 0), "submit"))
    assert done.status_code == 302
    shown = http.get(done["Location"]).content.decode()
    assert "PHQ-9 总分" in shown and "13" in shown and "中度抑郁症状" in shown


def test_problems_are_shown_next_to_the_item_in_chinese(world, member, builtin, login):
    http = login(world.doctor)
    fill_url = start(http, member, builtin["phq9"])
    with translation.override("zh-hans"):
        page = http.post(
            fill_url,
            {**post_answers({"phq9_1": "2"}, "submit")},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    body = page.content.decode()
    assert page.status_code == 400
    assert "第2题为必答题" in body
    response = QuestionnaireResponse.objects.get(client=member)
    assert response.status == "in_progress" and response.answers == {"phq9_1": ["2"]}


def test_the_intake_form_drops_answers_to_questions_switched_off(world, member, builtin, login):
    http = login(world.manager)
    fill_url = start(http, member, builtin["intake"])
    page = http.get(fill_url).content.decode()
    assert 'data-q-item="cigarettes_per_day"' in page and "每天吸几支" in page
    http.post(fill_url, post_answers({"smoking": "never", "cigarettes_per_day": "20"}, "save"))
    row = QuestionnaireResponse.objects.get(client=member)
    assert row.answers == {"smoking": ["never"]}


def test_a_nurse_reads_the_list_and_fills_in_during_a_call(world, member, builtin, login):
    http = login(world.nurse)
    listing = http.get(url(member))
    assert listing.status_code == 200 and 'id="start-form"' in listing.content.decode()
    started = http.post(url(member), {"questionnaire": str(builtin["phq9"].id)})
    assert started.status_code == 302
    assert http.get(started["Location"]).status_code == 200


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst", "manager_b", "outsider"])
def test_outsiders_are_refused_every_page(world, member, builtin, login, who):
    user = getattr(world, who)
    http = login(user)
    for page in ("", "fill/", "link/", "export/"):
        response = http.get(url(member, page))
        assert response.status_code in {403, 404}, (who, page)
        assert "欧阳明月" not in response.content.decode()
    assert http.post(url(member), {"questionnaire": str(builtin["phq9"].id)}).status_code == 403


def test_a_link_is_sent_by_sms_through_the_gateway(
    world,
    member,
    builtin,
    login,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from careledger.notifications.backends import read_outbox

    settings.CARELEDGER_NOTIFY_BACKEND = "file"
    settings.CARELEDGER_OUTBOX_DIR = tmp_path / "outbox"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # The Celery app reads its configuration once: set it there too (restored after the test).
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    http = login(world.manager)
    assert http.get(url(member, "link/")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(url(member, "link/"), {"questionnaire": str(builtin["gad7"].id)})
    assert response.status_code == 302
    link = ResponseLink.objects.get(client=member)
    sent = read_outbox(tmp_path / "outbox" / "sms.jsonl")
    assert len(sent) == 1 and sent[0]["template"] == "questionnaire_link"
    token = sent[0]["params"]["token"]
    assert f"/portal/q/{token}/" in sent[0]["text"]
    assert token not in json.dumps(list(ResponseLink.objects.values()), default=str)
    assert link.sent_at is not None


def test_the_export_is_fhir_json(world, member, builtin, login):
    http = login(world.manager)
    fill_url = start(http, member, builtin["gad7"])
    http.post(fill_url, post_answers({f"gad7_{n}": "1" for n in range(1, 8)}, "submit"))
    response = http.get(url(member, "export/"))
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = json.loads(response.content)
    assert bundle["entry"][0]["resource"]["status"] == "completed"
