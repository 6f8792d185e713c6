"""The consent API: history, desk capture, withdrawal, FHIR, texts; refusals by role; a fixed
number of queries whatever the history's length."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from careledger.consent import selectors, services
from careledger.consent.purposes import Purpose

pytestmark = pytest.mark.django_db


def base(client_id) -> str:  # type: ignore[no-untyped-def]
    return f"/api/clients/{client_id}/consents"


def post(http, path, data):  # type: ignore[no-untyped-def]
    return http.post(path, json.dumps(data), content_type="application/json")


def test_give_list_withdraw_and_export(world, member, texts, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    created = post(
        http,
        base(member.client_id),
        {
            "text_id": str(texts[Purpose.FOLLOWUP_PHONE].id),
            "method": "recording",
            "reference": "录音 55",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["purpose"] == "followup_phone" and body["in_force"] and "reference" not in body
    listed = http.get(base(member.client_id)).json()
    assert listed["in_force"] == ["followup_phone"]
    assert [c["id"] for c in http.get(f"{base(member.client_id)}/withdraw").json()] == [body["id"]]
    withdrawn = post(
        http,
        f"{base(member.client_id)}/withdraw",
        {"consent_id": body["id"], "method": "paper", "reference": "x"},
    )
    assert withdrawn.status_code == 200 and not withdrawn.json()["in_force"]
    assert not selectors.has_consent(client_id=member.client_id, purpose="followup_phone")
    Bundle.model_validate(http.get(f"{base(member.client_id)}/fhir").json())


def test_bad_input_gets_a_specific_error(world, member, texts, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    response = post(
        http,
        base(member.client_id),
        {"text_id": str(texts[Purpose.SHARE_PARTNER].id), "method": "fax", "reference": ""},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"method": ["unknown_method"], "reference": ["required"]}


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst", "nurse"])
def test_writes_are_refused_outside_the_recording_roles(world, member, texts, login, who):  # type: ignore[no-untyped-def]
    http = login(getattr(world, who))
    response = post(
        http,
        base(member.client_id),
        {"text_id": str(texts[Purpose.RESEARCH].id), "method": "paper", "reference": "x"},
    )
    assert response.status_code == 403
    if who != "nurse":
        assert http.get(base(member.client_id)).status_code == 403


def test_the_list_is_a_fixed_number_of_queries(
    world, member, texts, login, django_assert_max_num_queries
):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    services.do_record(
        actor=world.manager,
        client_id=member.client_id,
        text_id=texts[Purpose.RESEARCH].id,
        method="paper",
        reference="x",
    )
    http.get(base(member.client_id))
    with django_assert_max_num_queries(30) as few:
        http.get(base(member.client_id))
    for purpose in (Purpose.FOLLOWUP_SMS, Purpose.FOLLOWUP_WECHAT, Purpose.SENSITIVE_PI):
        services.do_record(
            actor=world.manager,
            client_id=member.client_id,
            text_id=texts[purpose].id,
            method="paper",
            reference="x",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(http.get(base(member.client_id)).json()["consents"]) == 4


def test_texts_through_the_api(world, login):  # type: ignore[no-untyped-def]
    http = login(world.admin)
    created = post(
        http, "/api/config/consents", {"purpose": "research", "title": "科研", "body": "正文"}
    )
    assert created.status_code == 201
    tid = created.json()["id"]
    assert post(http, f"/api/config/consents/{tid}/publish", {}).json()["status"] == "published"
    changed = http.put(
        f"/api/config/consents/{tid}",
        json.dumps({"title": "x", "body": "y"}),
        content_type="application/json",
    )
    assert changed.status_code == 422
    assert changed.json()["errors"] == {"status": ["published_text_is_immutable"]}
    assert login(world.manager).get("/api/config/consents").status_code == 403
