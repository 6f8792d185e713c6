"""The JSON API mirrors the pages: same selectors, services, policy and ledger."""

from __future__ import annotations

import pytest
from tests.tagging.conftest import at, person, publish, run

from careledger.tagging.models import ClientTag, TagDefinition

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged(world, lab):  # type: ignore[no-untyped-def]
    client = person(world)
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140", name="高血压")
    run(world)
    return client, tag


def test_read_tags_and_history(world, tagged, login):
    client, _tag = tagged
    http = login(world.nurse)
    tags = http.get(f"/api/clients/{client.id}/tags").json()
    assert [t["code"] for t in tags["tags"]] == ["hypertension"]
    history = http.get(f"/api/clients/{client.id}/tags/history").json()
    assert history[0]["facts"] == {"latest:8480-6": 150.0} and history[0]["rule_version"] == 1


def test_manual_tags_through_the_api(world, tagged, login):
    client, _tag = tagged
    vip = TagDefinition.objects.create(institution=world.inst, code="vip", name_zh="重点")
    http = login(world.doctor)
    done = http.post(
        f"/api/clients/{client.id}/tags",
        {"tag_id": str(vip.id), "reason": "家属要求"},
        content_type="application/json",
    )
    assert done.status_code == 201 and done.json()["op"] == "applied"
    gone = http.post(
        f"/api/clients/{client.id}/tags",
        {"tag_id": str(vip.id), "reason": "已解决", "op": "remove"},
        content_type="application/json",
    )
    assert gone.status_code == 201 and not ClientTag.objects.get(tag=vip).active


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_outsiders_get_403(world, tagged, login, who):
    client, tag = tagged
    http = login(getattr(world, who))
    assert http.get(f"/api/clients/{client.id}/tags").status_code == 403
    assert http.get(f"/api/clients/{client.id}/tags/history").status_code == 403
    posted = http.post(
        f"/api/clients/{client.id}/tags",
        {"tag_id": str(tag.id), "reason": "xx"},
        content_type="application/json",
    )
    assert posted.status_code == 403


def test_config_validate_preview_draft_publish(world, tagged, login):
    _client, tag = tagged
    http = login(world.admin)
    bad = http.post(
        "/api/config/tag-rules/validate",
        {"expression": "latest('8480-6') >= 140 and\n weight > 3"},
        content_type="application/json",
    ).json()
    assert bad["valid"] is False
    assert (bad["error"]["code"], bad["error"]["line"], bad["error"]["col"]) == (
        "unknown_name",
        2,
        2,
    )
    preview = http.post(
        f"/api/config/tag-rules/{tag.id}/preview",
        {"expression": "latest('8480-6') >= 160"},
        content_type="application/json",
    ).json()
    assert (preview["would_carry"], preview["lose"]) == (0, 1)
    draft = http.post(
        f"/api/config/tag-rules/{tag.id}/draft",
        {"expression": "latest('8480-6') >= 160"},
        content_type="application/json",
    )
    assert draft.status_code == 200 and draft.json()["version"] == 2
    published = http.post(f"/api/config/tag-rules/versions/{draft.json()['id']}/publish")
    assert published.json()["status"] == "published"
    listing = http.get("/api/config/tag-rules").json()
    assert listing[0]["code"] == "hypertension" and listing[0]["carried"] == 1


def test_config_api_refuses_clinicians(world, tagged, login):
    http = login(world.doctor)
    assert http.get("/api/config/tag-rules").status_code == 403
    assert (
        http.post(
            "/api/config/tag-rules/validate", {"expression": "age"}, content_type="application/json"
        ).status_code
        == 403
    )
