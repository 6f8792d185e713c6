"""Leaf schema v2: the FHIR AuditEvent fields (time, agent with role, institution and department,
action, outcome, purpose of use, entity, client, source IP, request id) and the leaf's own
position; never a plaintext identifier. v1 leaves written before it stay verifiable, and their
row digests still count as seals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from careledger.clients.models import Client
from careledger.clients.selectors import get_client
from careledger.ledger import merkle
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, LedgerHead, RowSeal
from careledger.ledger.rows import row_digest
from careledger.ledger.verify import verify
from careledger.request_context import RequestContext, bound

pytestmark = pytest.mark.django_db

FIELDS = {
    "v",
    "seq",
    "time",
    "actor",
    "role",
    "institution",
    "department",
    "action",
    "outcome",
    "purpose",
    "client",
    "resource",
    "request",
    "channel",
    "ip",
    "detail",
}


def test_a_read_carries_every_audit_event_field(world):
    enrolled = world.enrol(name="司马青云", phone="13955554444")
    ctx = RequestContext(request_id="req-123", channel="web", ip="10.1.2.3")
    with bound(ctx):
        get_client(world.doctor, enrolled.client_id)
    entry = LedgerEntry.objects.get(action="client.view")
    leaf = json.loads(entry.leaf)
    assert set(leaf) == FIELDS
    assert leaf["v"] == ledger.SCHEMA_VERSION == 2
    assert leaf["seq"] == entry.seq
    assert leaf["actor"] == str(world.doctor.id) and leaf["role"] == "doctor"
    assert leaf["department"] == str(world.team_a.department_id)
    assert leaf["institution"] == str(world.inst.id)
    assert leaf["client"] == str(enrolled.client_id)
    assert leaf["resource"] == {"type": "Client", "id": str(enrolled.client_id)}
    assert (leaf["request"], leaf["channel"], leaf["ip"]) == ("req-123", "web", "10.1.2.3")
    assert leaf["purpose"] == "care" and leaf["outcome"] == "allowed"
    assert dt.datetime.fromisoformat(leaf["time"]).tzinfo is not None
    text = " ".join(LedgerEntry.objects.values_list("leaf", flat=True))
    assert "司马青云" not in text and "13955554444" not in text


def test_the_actors_department_is_recorded_when_known():
    actor = ledger.Actor(id="u1", role="doctor", institution_id="i1", department="d1")
    entry = ledger.record(actor=actor, action="test.dept")
    assert json.loads(entry.leaf)["department"] == "d1"
    assert (
        json.loads(ledger.record(actor=ledger.SYSTEM, action="test.sys").leaf)["department"] == ""
    )


def test_a_user_in_no_care_team_records_no_department(world):
    from careledger.access.enforce import actor_of

    assert actor_of(world.auditor).department == ""
    assert actor_of(world.manager).department == str(world.team_a.department_id)


def test_an_actor_without_a_department_still_records(db):
    entry = ledger.record(actor=ledger.Actor("u", "auditor", "i"), action="test.plain")
    assert json.loads(entry.leaf)["department"] == ""


def append_v1(event: dict) -> None:
    """What the v1 code appended: no seq, no department, row digest inside the detail."""
    head = ledger._locked_head()
    frontier = merkle.Frontier.from_json(head.frontier)
    leaf = merkle.canonical_json(event)
    h = merkle.leaf_hash(leaf)
    LedgerEntry.objects.create(
        seq=frontier.size,
        leaf=leaf.decode(),
        leaf_hash=h.hex(),
        recorded_at=timezone.now(),
        action=event["action"],
        outcome=event["outcome"],
        actor_id=event["actor"],
        institution_id=event["institution"],
        client_id=event["client"],
    )
    frontier.append(h)
    head.size, head.frontier, head.root = frontier.size, frontier.to_json(), frontier.root().hex()
    head.save()


def test_v1_leaves_stay_verifiable_and_their_row_digests_count_as_seals(world):
    client = Client.objects.get(pk=world.enrol().client_id)
    RowSeal.objects.all().delete()
    LedgerEntry.objects.all().delete()
    LedgerHead.objects.all().delete()
    append_v1(
        {
            "v": 1,
            "time": timezone.now().isoformat(),
            "actor": "system",
            "role": "system",
            "institution": "",
            "action": "client.enrol",
            "outcome": "allowed",
            "purpose": "enrolment",
            "client": str(client.id),
            "resource": {"type": "Client", "id": str(client.id)},
            "request": "",
            "channel": "",
            "ip": "",
            "detail": {"row_digest": row_digest(client), "version": 1},
        }
    )
    RowSeal.objects.create(
        table="clients_client", row_id=str(client.id), digest=row_digest(client), seq=0
    )
    ledger.record(actor=ledger.SYSTEM, action="test.after_upgrade")
    report = verify()
    assert report.ok, report.problems
    Client.objects.filter(pk=client.pk).update(status="inactive")
    assert any("changed behind" in p and "entry 0" in p for p in verify().problems)
