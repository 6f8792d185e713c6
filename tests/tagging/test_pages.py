"""The pages (Chinese first, as every page): the client's tags (chips, history, manual forms),
the profile chips and the list's tag filter, and the admin's rule editor (live validation,
preview, publish, retire)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.tagging.conftest import at, person, publish, run

from careledger.ledger.models import LedgerEntry
from careledger.tagging import services
from careledger.tagging.models import ClientTag, TagDefinition, TagRule
from careledger.tagging.services import TagInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged(world, lab):  # type: ignore[no-untyped-def]
    client = person(world, name="欧阳明月")
    plain = person(world, name="司马青衫")
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140", name="高血压")
    run(world)
    return client, plain, tag


def test_the_tags_page_shows_chips_history_with_facts_and_the_manual_forms(world, tagged, login):
    client, _plain, _tag = tagged
    page = login(world.doctor).get(reverse("tagging:tags", args=[client.id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "高血压" in body and "规则第 1 版触发" in body
    assert "latest(&#x27;8480-6&#x27;) &gt;= 140" in body
    assert "150 mmHg" in body  # the fact that fired it, with its unit
    assert 'id="apply-form"' in body


def test_nurses_see_tags_but_get_no_manual_forms(world, tagged, login):
    client, _plain, _tag = tagged
    page = login(world.nurse).get(reverse("tagging:tags", args=[client.id]))
    assert page.status_code == 200 and "高血压" in page.content.decode()
    assert 'id="apply-form"' not in page.content.decode()
    refused = login(world.nurse).post(
        reverse("tagging:manual", args=[client.id]), {"tag": str(_tag.id), "reason": "xx"}
    )
    assert refused.status_code == 403


def test_applying_and_removing_by_hand_through_the_page(world, tagged, login):
    client, _plain, _tag = tagged
    vip = services.do_create_tag(actor=world.admin, data=TagInput("vip", "重点关注"))
    http = login(world.manager)
    url = reverse("tagging:manual", args=[client.id])
    done = http.post(url, {"op": "apply", "tag": str(vip.id), "reason": "复查依从性差"})
    assert done.status_code == 302
    assert ClientTag.objects.get(tag=vip, source="manual").active
    page = http.get(reverse("tagging:tags", args=[client.id])).content.decode()
    assert "复查依从性差" in page and 'id="remove-form"' in page
    http.post(url, {"op": "remove", "tag": str(vip.id), "reason": "已改善"})
    assert not ClientTag.objects.get(tag=vip, source="manual").active


def test_the_profile_shows_chips_and_the_list_filters_by_tag(world, tagged, login):
    client, _plain, tag = tagged
    http = login(world.manager)
    profile = http.get(reverse("clients:profile", args=[client.id])).content.decode()
    assert "高血压" in profile and reverse("tagging:tags", args=[client.id]) in profile
    everyone = http.get(reverse("clients:list")).content.decode()
    assert "欧阳明月" in everyone and "司马青衫" in everyone and 'id="tag-filter"' in everyone
    filtered = http.get(reverse("clients:list"), {"tag": "hypertension"})
    body = filtered.content.decode()
    assert "欧阳明月" in body and "司马青衫" not in body
    event = LedgerEntry.objects.filter(action="client.list").order_by("-seq").first()
    assert event.client_id == str(client.id) and str(tag.id) in event.leaf
    unknown = http.get(reverse("clients:list"), {"tag": "nope"}).content.decode()
    assert "欧阳明月" not in unknown


def test_the_list_filter_stays_within_the_care_team(world, tagged, login):
    body = login(world.manager_b).get(reverse("clients:list"), {"tag": "hypertension"})
    assert body.status_code == 200 and "欧阳明月" not in body.content.decode()


def test_the_editor_validates_live_and_shows_the_error_under_its_spot(world, login):
    http = login(world.admin)
    fragment = http.post(
        reverse("tagging_config:validate"), {"expression": "age > 60 and latest('0000-0') > 1"}
    )
    body = fragment.content.decode()
    assert fragment.status_code == 200
    assert "第 1 行，第 21 列" in body and "未知指标代码" in body
    assert ">" + " " * 20 + "^" * 8 + "<" in body  # the caret line under '0000-0'
    ok = http.post(reverse("tagging_config:validate"), {"expression": "latest('8480-6') >= 140"})
    assert "规则有效。" in ok.content.decode()


def test_the_admin_creates_previews_publishes_and_retires(world, tagged, login):
    http = login(world.admin)
    created = http.post(
        reverse("tagging_config:new"),
        {
            "code": "senior",
            "name_zh": "老年",
            "name_en": "Senior",
            "colour": "purple",
            "category": "risk",
            "expression": "age >= 0",
        },
    )
    tag = TagDefinition.objects.get(code="senior")
    assert created.status_code == 302 and created["Location"].endswith(f"/{tag.id}/")
    page = http.get(reverse("tagging_config:tag", args=[tag.id])).content.decode()
    assert "草稿第 1 版" in page and "欧阳明月" not in page
    preview = http.post(
        reverse("tagging_config:preview", args=[tag.id]), {"expression": "age >= 0"}
    )
    assert "在 2 位客户中，将有 2 位带有此标签" in preview.content.decode()
    assert "欧阳明月" not in preview.content.decode()
    rule = TagRule.objects.get(tag=tag)
    http.post(reverse("tagging_config:publish", args=[rule.id]))
    rule.refresh_from_db()
    assert rule.status == "published"
    listing = http.get(reverse("tagging_config:list")).content.decode()
    assert "老年" in listing and "v1" in listing
    http.post(reverse("tagging_config:retire", args=[rule.id]))
    rule.refresh_from_db()
    assert rule.status == "retired"


def test_saving_a_broken_draft_answers_422_with_the_error(world, tagged, login):
    _client, _plain, tag = tagged
    page = login(world.admin).post(
        reverse("tagging_config:tag", args=[tag.id]),
        {"expression": "latest('8480-6') >=", "note": ""},
    )
    assert page.status_code == 422 and "不完整" in page.content.decode()
    assert not TagRule.objects.filter(tag=tag, status="draft").exists()


def test_clinicians_are_refused_the_rule_pages(world, tagged, login):
    _client, _plain, tag = tagged
    http = login(world.doctor)
    for url in (
        reverse("tagging_config:list"),
        reverse("tagging_config:new"),
        reverse("tagging_config:tag", args=[tag.id]),
    ):
        assert http.get(url).status_code == 403, url
    assert http.post(reverse("tagging_config:validate"), {"expression": "age"}).status_code == 403
