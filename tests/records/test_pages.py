"""The record pages: the record (Chinese first, cards per section), the add / edit / retract forms
with errors beside their fields, the change history; bounded queries; refusals."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.ledger.models import LedgerEntry
from careledger.records.models import ConditionEntry, EntryRevision, MedicationEntry
from careledger.records.services import do_add_entry
from records.conftest import VALID, vitals_data

pytestmark = pytest.mark.django_db


def fill(world, member, per_section: int = 1, lifestyle: bool = True) -> None:  # type: ignore[no-untyped-def]
    for section, data in VALID.items():
        for _ in range((1 if lifestyle else 0) if section == "lifestyle" else per_section):
            do_add_entry(actor=world.manager, client_id=member.id, section=section, data=data)
    for _ in range(per_section):
        do_add_entry(actor=world.manager, client_id=member.id, section="vitals", data=vitals_data())


def url(member, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/clients/{member.id}/record/{tail}"


def test_the_record_page_shows_every_section_in_chinese(world, member, login):
    fill(world, member)
    body = login(world.manager).get(url(member)).content.decode()
    for title in ("既往史", "家族史", "用药", "过敏史", "手术史", "生活方式", "生命体征"):
        assert title in body
    assert "I10 原发性高血压" in body and "E11 2型糖尿病" in body
    assert "苯磺酸氨氯地平片" in body and "5 毫克" in body and "每日一次" in body
    assert 'id="allergy-alert"' in body and "青霉素" in body
    assert "现在吸烟" in body and "148↑/92↑" in re.sub(r"<[^>]+>", "", body)
    assert body.count("?entry=") >= 5  # edit links


def test_the_nurse_reads_the_page_without_edit_links_and_with_the_name_masked(world, member, login):
    fill(world, member)
    body = login(world.nurse).get(url(member)).content.decode()
    assert "欧**月" in body and "欧阳明月" not in body
    assert "晨起头晕" in body  # clinical notes are for the nurse too
    assert "添加" not in body and "录入有误" not in body


def test_the_profile_links_to_the_record(world, member, login):
    body = login(world.manager).get(f"/clients/{member.id}/").content.decode()
    assert f'href="/clients/{member.id}/record/"' in body and "健康档案" in body


def test_adding_through_the_form_saves_and_returns_to_the_section(world, member, login):
    http = login(world.manager)
    assert http.get(url(member, "conditions/")).status_code == 200
    response = http.post(
        url(member, "conditions/"),
        {"code": "E11 2型糖尿病", "onset": "2019", "clinical_status": "active", "note": "饮食控制"},
    )
    assert response.status_code == 302 and response["Location"].endswith("record/#conditions")
    row = ConditionEntry.objects.get(client=member)
    assert row.code == "E11" and row.note == "饮食控制"


def test_bad_input_comes_back_with_each_error_beside_its_field(world, member, login):
    http = login(world.manager)
    response = http.post(
        url(member, "medications/"),
        {"drug_name": "二甲双胍", "dose_value": "500", "start": "2020-05", "end": "2019"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert re.search(r'id="id_dose_unit_err".*?请选择剂量单位', body, re.S)
    assert re.search(r'id="id_end_err".*?停药时间（2019）早于开始时间（2020-05）', body, re.S)
    assert re.search(r'id="id_medication_status_err".*?此项为必填项', body, re.S)
    assert 'value="二甲双胍"' in body  # what was typed stays
    assert not MedicationEntry.objects.exists()


def test_an_unknown_code_is_refused_in_the_form_with_the_list_offered(world, member, login):
    http = login(world.manager)
    body = http.get(url(member, "family-history/")).content.decode()
    assert '<datalist id="icd10-codes">' in body and "I10 原发性高血压" in body
    response = http.post(url(member, "family-history/"), {"relation": "MTH", "code": "Q99"})
    assert response.status_code == 422
    assert "未知的 ICD-10 编码“Q99”" in response.content.decode()


def test_editing_through_the_form_makes_a_new_version_with_the_reason(world, member, login):
    fill(world, member)
    entry = ConditionEntry.objects.get(client=member)
    http = login(world.doctor)
    form = http.get(url(member, f"conditions/?entry={entry.id}"))
    assert form.status_code == 200 and "晨起头晕" in form.content.decode()
    response = http.post(
        url(member, f"conditions/?entry={entry.id}"),
        {**VALID["conditions"], "clinical_status": "resolved", "reason": "复查正常"},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.version == 2 and entry.clinical_status == "resolved"
    assert EntryRevision.objects.get(entry_id=entry.id, version=2).reason == "复查正常"


def test_lifestyle_form_edits_the_current_entry(world, member, login):
    fill(world, member)
    http = login(world.manager)
    body = http.get(url(member, "lifestyle/")).content.decode()
    assert "应酬较多" in body and "?entry=" in body
    response = http.post(
        url(member, "lifestyle/"), {**VALID["lifestyle"], "smoking": "former", "note": "已戒烟"}
    )
    assert response.status_code == 302
    assert EntryRevision.objects.filter(section="lifestyle").count() == 2


def test_retracting_through_the_form_needs_a_reason_and_keeps_the_entry(world, member, login):
    fill(world, member)
    entry = ConditionEntry.objects.get(client=member)
    http = login(world.manager)
    refused = http.post(url(member, f"conditions/?entry={entry.id}"), {"op": "retract"})
    assert refused.status_code == 422 and "请说明录入错误的原因" in refused.content.decode()
    done = http.post(
        url(member, f"conditions/?entry={entry.id}"), {"op": "retract", "reason": "重复录入"}
    )
    assert done.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "entered_in_error"
    page = http.get(url(member)).content.decode()
    assert "晨起头晕" not in page and "1 条记录已标记为录入错误" in page
    history = http.get(url(member, f"history/?entry={entry.id}")).content.decode()
    assert "重复录入" in history and "录入错误" in history and "v2" in history


def test_a_vital_sign_set_is_retracted_from_the_record_page(world, member, login):
    fill(world, member)
    set_id = EntryRevision.objects.get(section="vitals").entry_id
    http = login(world.manager)
    response = http.post(
        url(member, f"vitals/?entry={set_id}"), {"op": "retract", "reason": "袖带尺寸不对"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#vitals")
    assert "148↑" not in re.sub(r"<[^>]+>", "", http.get(url(member)).content.decode())


def test_the_history_page_lists_every_version_with_who_and_what(world, member, login):
    fill(world, member)
    body = login(world.nurse).get(url(member, "history/")).content.decode()
    assert body.count('class="mb-3 revision"') == 7
    assert "manager" in body and "新建记录" in body and "收缩压（mmHg）: 148" in body


def test_unknown_or_foreign_entries_are_not_found(world, member, login):
    other = world.enrol()
    fill(world, member)
    entry = ConditionEntry.objects.get(client=member)
    http = login(world.manager)
    assert http.get(url(member, "conditions/?entry=not-a-uuid")).status_code == 404
    assert (
        http.get(f"/clients/{other.client_id}/record/conditions/?entry={entry.id}").status_code
        == 404
    )
    assert http.get(url(member, f"allergies/?entry={entry.id}")).status_code == 404


@pytest.mark.parametrize("who", ["outsider", "admin", "auditor", "analyst"])
def test_outsiders_get_403_and_a_ledgered_denial_on_every_page(world, member, login, who):
    fill(world, member)
    user = getattr(world, who)
    http = login(user)
    for tail in ("", "history/", "conditions/", "vitals/"):
        before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        response = http.get(url(member, tail))
        assert response.status_code == 403, (who, tail)
        assert (
            "欧阳明月" not in response.content.decode()
            and "晨起头晕" not in response.content.decode()
        )
        assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count() > before


def test_another_team_is_offered_break_glass(world, member, login):
    response = login(world.manager_b).get(url(member))
    assert response.status_code == 403
    assert f"/clients/{member.id}/break-glass/" in response.content.decode()


def test_the_nurse_cannot_open_a_form_or_post_one(world, member, login):
    http = login(world.nurse)
    assert http.get(url(member, "conditions/")).status_code == 403
    assert http.post(url(member, "conditions/"), VALID["conditions"]).status_code == 403
    assert not ConditionEntry.objects.exists()


def _queries_for_record_page(http, member) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url(member)).status_code == 200
    return len(queries)


def test_the_record_page_costs_the_same_queries_for_one_entry_or_many(
    world, member, login, django_assert_max_num_queries
):
    http = login(world.manager)
    fill(world, member, per_section=1)
    _queries_for_record_page(http, member)  # warm the session and key caches
    few = _queries_for_record_page(http, member)
    fill(world, member, per_section=6, lifestyle=False)
    many = _queries_for_record_page(http, member)
    assert many == few, (few, many)
    with django_assert_max_num_queries(30):
        http.get(url(member))
