"""Sharing fixtures, all through the services: a partner registered by the admin (OAuth client),
a client of team A with a check-up, their consent to share with the partner, a grant."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import pytest
from tests.portal.conftest import eager_tasks, outbox, portal, sign_in  # noqa: F401

from careledger.consent import services as consent_services
from careledger.consent import text_services
from careledger.sharing import services
from careledger.sharing.services import GrantInput

ALL = ["system/*.read"]


@dataclass
class Partnered:
    registered: services.Registered

    @property
    def partner(self):  # type: ignore[no-untyped-def]
        return self.registered.partner

    def basic(self) -> str:
        raw = f"{self.registered.client_id}:{self.registered.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def register(world, code: str = "P-001", scopes=None, actor=None):  # type: ignore[no-untyped-def]
    return Partnered(
        services.do_register_partner(
            actor=actor or world.admin, name=f"合作医院 {code}", code=code, scopes=scopes or ALL
        )
    )


@pytest.fixture
def partnered(world):  # type: ignore[no-untyped-def]
    return register(world)


@pytest.fixture
def share_text(world):  # type: ignore[no-untyped-def]
    draft = text_services.do_create_draft(
        actor=world.admin,
        purpose="share_partner",
        title="共享知情同意书",
        body="本人同意向合作机构共享。",
    )
    return text_services.do_publish(actor=world.admin, text_id=draft.id)


def consent(world, client_id, partner, text):  # type: ignore[no-untyped-def]
    return consent_services.do_record(
        actor=world.manager,
        client_id=client_id,
        text_id=text.id,
        method="paper",
        reference="纸质同意书 2026-001",
        partner_institution_id=partner.id,
        partner_name=partner.name,
    )


def grant_input(partner, categories=("demographics", "results"), **overrides):  # type: ignore[no-untyped-def]
    values = {
        "partner_id": partner.id,
        "categories": list(categories),
        "data_from": None,
        "data_to": None,
        "valid_days": 30,
        "max_uses": 5,
    }
    values.update(overrides)
    return GrantInput(**values)


def checkup(world, client_id, *, when: dt.datetime, report_id: str = "R1", glucose: str = "5.6"):  # type: ignore[no-untyped-def]
    """One report of two results, through the real FHIR import pipeline."""
    import json

    from careledger.clients.models import Client
    from careledger.exams.services import do_create_import, run_import

    client = Client.objects.get(pk=client_id)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p",
                    "identifier": [
                        {"system": "urn:oid:2.16.156.10011.1.3", "value": client.document_number}
                    ],
                    "name": [{"text": client.name}],
                }
            },
            {
                "resource": {
                    "resourceType": "DiagnosticReport",
                    "id": report_id,
                    "status": "final",
                    "code": {"text": "体检"},
                    "subject": {"reference": "Patient/p"},
                    "effectiveDateTime": when.isoformat(),
                    "result": [{"reference": "Observation/g"}, {"reference": "Observation/c"}],
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "g",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
                    "subject": {"reference": "Patient/p"},
                    "effectiveDateTime": when.isoformat(),
                    "valueQuantity": {"value": float(glucose), "unit": "mmol/L"},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "c",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "2093-3"}]},
                    "subject": {"reference": "Patient/p"},
                    "effectiveDateTime": when.isoformat(),
                    "valueQuantity": {"value": 5.1, "unit": "mmol/L"},
                }
            },
        ],
    }
    job = do_create_import(
        actor=world.manager,
        filename="r.json",
        data=json.dumps(bundle, ensure_ascii=False).encode(),
        fmt="fhir",
        enqueue=False,
    )
    return run_import(job.id)


@pytest.fixture
def shared(world, partnered, share_text):  # type: ignore[no-untyped-def]
    """Client A with two check-ups, consent to share with the partner, an active grant."""
    enrolled = world.enrol(name="欧阳明月", phone="13912340000")
    checkup(
        world, enrolled.client_id, when=dt.datetime(2020, 5, 1, 9, tzinfo=dt.UTC), report_id="R2020"
    )
    checkup(
        world,
        enrolled.client_id,
        when=dt.datetime(2025, 5, 1, 9, tzinfo=dt.UTC),
        report_id="R2025",
        glucose="7.2",
    )
    consent(world, enrolled.client_id, partnered.partner, share_text)
    grant = services.do_create_grant(
        actor=world.manager, client_id=enrolled.client_id, data=grant_input(partnered.partner)
    )
    return enrolled, grant


def token(http, partnered, scope: str = "system/*.read") -> str:  # type: ignore[no-untyped-def]
    response = http.post(
        "/fhir/R4/auth/token",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=partnered.basic(),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]
