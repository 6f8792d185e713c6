"""Editing through the form keeps the client's care teams that the editor is not in."""

from __future__ import annotations

import pytest

from careledger.clients.models import Client
from careledger.institutions.models import CareTeamMembership

pytestmark = pytest.mark.django_db


def test_saving_an_edit_does_not_drop_a_team_the_editor_is_not_in(world, login):
    CareTeamMembership.objects.create(care_team=world.team_b, user=world.manager)
    enrolled = world.enrol(care_team_ids=[world.team_a.id, world.team_b.id])
    CareTeamMembership.objects.filter(care_team=world.team_b, user=world.manager).delete()
    http = login(world.manager)
    form = http.get(f"/clients/{enrolled.client_id}/edit/")
    assert form.status_code == 200
    initial = form.context["form"].initial
    data = {k: v for k, v in initial.items() if k != "care_team_ids"}
    data["birth_date"] = initial["birth_date"].isoformat()
    data["care_team_ids"] = [str(t) for t in initial["care_team_ids"]]
    data["address"] = "北京市朝阳区新地址1号"
    data["reason"] = "搬家"
    response = http.post(f"/clients/{enrolled.client_id}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    client = Client.objects.get(pk=enrolled.client_id)
    assert client.address == "北京市朝阳区新地址1号"
    assert set(client.care_team_links.values_list("care_team_id", flat=True)) == {
        world.team_a.id,
        world.team_b.id,
    }
