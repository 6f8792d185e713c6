"""The demo's export data: a research project and one request awaiting approval, added once."""

from __future__ import annotations

import pytest

from careledger.exports.demo import seed_exports
from careledger.exports.models import ExportRequest, ResearchProject, Status

pytestmark = pytest.mark.django_db


def test_demo_exports_are_seeded_once(world):
    users = {"admin": world.admin, "doctor": world.doctor}
    world.enrol()
    seed_exports(world.inst, users)
    seed_exports(world.inst, users)
    assert ResearchProject.objects.filter(institution=world.inst).count() == 1
    request = ExportRequest.objects.get()
    assert request.status == Status.PENDING and request.requested_by == world.doctor
    assert request.client_count == 1
