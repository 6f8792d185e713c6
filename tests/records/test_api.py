"""The record over the JSON API: the whole record by section (separate output schemas), a new
entry of any section by POST, the same policy, validation and ledger as the pages."""

from __future__ import annotations

import json

import pytest

from careledger.ledger.models import LedgerEntry
from careledger.records.models import AllergyEntry
from careledger.records.services import do_add_entry
from records.conftest import VALID, vitals_data

pytestmark = pytest.mark.django_db


def api_url(member) -> str:  # type: ignore[no-untyped-def]
    return f"/api/clients/{member.id}/record"


def post(http, member, body):  # type: ignore[no-untyped-def]
    return http.post(api_url(member), json.dumps(body), content_type="application/json")


def test_get_returns_every_section_with_its_own_shape(world, member, login):
    for section, data in VALID.items():
        do_add_entry(actor=world.manager, client_id=member.id, section=section, data=data)
    do_add_entry(actor=world.manager, client_id=member.id, section="vitals", data=vitals_data())
    response = login(world.nurse).get(api_url(member))
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == str(member.id) and body["emergency"] is False
    condition = body["conditions"][0]
    assert condition["code"] == "I10" and condition["code_name"]
    assert condition["note"] == VALID["conditions"]["note"] and condition["version"] == 1
    assert set(condition) == {
        "id",
        "version",
        "updated_at",
        "note",
        "code",
        "code_name",
        "onset",
        "clinical_status",
    }
    assert body["medications"][0]["dose_value"] in ("5.000", 5.0, "5")
    assert body["lifestyle"]["smoking"] == "current"
    vitals = body["vitals"][0]
    assert float(vitals["sbp"]) == 148 and float(vitals["bmi"]) == 27.2
    assert "recorded_by" not in condition and "institution" not in condition
    assert LedgerEntry.objects.filter(
        actor_id=str(world.nurse.id), action="record.view", client_id=str(member.id)
    ).exists()


def test_post_adds_an_entry_of_the_section_named_in_the_body(world, member, login):
    http = login(world.doctor)
    response = post(http, member, {"section": "allergies", **VALID["allergies"]})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["section"] == "allergies" and created["version"] == 1
    assert AllergyEntry.objects.get(pk=created["id"]).substance == "青霉素"
    vitals = post(
        http,
        member,
        {"section": "vitals", "measured_at": "2025-06-01T08:30:00+08:00", "sbp": 132, "dbp": 84},
    )
    assert vitals.status_code == 201, vitals.content


def test_bad_input_is_a_422_naming_each_field(world, member, login):
    response = post(
        login(world.manager),
        member,
        {"section": "medications", "drug_name": "阿司匹林", "dose_value": 100, "start": "2030"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"dose_unit", "start"}


def test_an_unknown_section_is_refused_by_the_schema(world, member, login):
    response = post(login(world.manager), member, {"section": "tattoos", "name": "龙"})
    assert response.status_code == 422


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst", "nurse"])
def test_those_who_may_not_write_get_403_and_a_ledgered_denial(world, member, login, who):
    user = getattr(world, who)
    before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
    response = post(login(user), member, {"section": "conditions", **VALID["conditions"]})
    assert response.status_code == 403
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count() > before


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_those_who_may_not_read_get_403_and_nothing_of_the_record(world, member, login, who):
    do_add_entry(
        actor=world.manager, client_id=member.id, section="conditions", data=VALID["conditions"]
    )
    response = login(getattr(world, who)).get(api_url(member))
    assert response.status_code == 403
    assert "晨起头晕" not in response.content.decode()


def test_an_unknown_client_is_a_404(world, login):
    import uuid

    response = login(world.manager).get(f"/api/clients/{uuid.uuid4()}/record")
    assert response.status_code == 404
