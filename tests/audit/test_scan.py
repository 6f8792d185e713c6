"""The anomaly scan over the ledger: alerts once per rule, user and hour."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from careledger.access.enforce import actor_of
from careledger.audit.models import Alert
from careledger.audit.scan import scan
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def reads(user, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    entries = ledger.record_many(
        actor=actor_of(user),
        action="client.list",
        client_ids=[str(uuid.uuid4()) for _ in range(n)],
        purpose="care",
    )
    return [e.seq for e in entries]


# Events are moved into a fixed daytime hour, so the night rule only fires where a test wants it
# whatever time of day the suite runs.
DAY = (timezone.localtime() - dt.timedelta(days=1)).replace(hour=10, minute=30)


def reads_at(user, n: int, when: dt.datetime = DAY) -> list[int]:  # type: ignore[no-untyped-def]
    seqs = reads(user, n)
    LedgerEntry.objects.filter(seq__in=seqs).update(recorded_at=when)
    return seqs


def next_hour(when: dt.datetime = DAY) -> dt.datetime:
    """A `now` for which the hour of `when` is the last complete one."""
    return when + dt.timedelta(hours=1)


def test_many_distinct_clients_in_an_hour_raise_one_alert(world):
    reads_at(world.nurse, 60)
    assert scan(hours=1, now=next_hour()) == 1
    alert = Alert.objects.get(rule="many_clients")
    assert alert.subject_user == world.nurse and alert.observed == 60
    assert alert.institution_id == world.inst.id
    assert scan(hours=1, now=next_hour()) == 0  # idempotent
    assert Alert.objects.filter(rule="many_clients").count() == 1


def test_a_users_own_busy_norm_is_not_an_anomaly(world):
    reads_at(world.nurse, 60)
    # The same volume on each of the previous seven days.
    for day in range(1, 8):
        reads_at(world.nurse, 60, DAY - dt.timedelta(days=day))
    scan(hours=1, now=next_hour())
    assert not Alert.objects.filter(rule="many_clients").exists()


def test_bulk_reads_at_night(world):
    night = DAY.replace(hour=2)
    reads_at(world.doctor, 25, night)
    scan(hours=1, now=next_hour(night))
    alert = Alert.objects.get(rule="night_bulk")
    assert alert.subject_user == world.doctor and alert.severity == "high"


def test_repeated_denials(world, login):
    enrolled = world.enrol()
    http = login(world.manager_b)
    for _ in range(5):
        http.get(f"/clients/{enrolled.client_id}/")
    LedgerEntry.objects.filter(outcome="denied").update(recorded_at=DAY)
    scan(hours=1, now=next_hour())
    alert = Alert.objects.get(rule="repeated_denials")
    assert alert.subject_user == world.manager_b and alert.observed >= 5


def test_ordinary_work_raises_nothing(world, login):
    for _ in range(3):
        world.enrol()
    login(world.manager).get("/clients/")
    LedgerEntry.objects.update(recorded_at=DAY)
    assert scan(hours=1, now=next_hour()) == 0


def test_the_scan_is_ledgered_and_the_auditor_sees_and_handles_alerts(world, login):
    reads_at(world.nurse, 60)
    scan(hours=1, now=next_hour())
    assert LedgerEntry.objects.filter(action="audit.scan").exists()
    http = login(world.auditor)
    page = http.get("/audit/alerts/")
    assert page.status_code == 200
    [alert] = page.context["alerts"]
    response = http.post(f"/audit/alerts/{alert.id}/", {"status": "closed", "note": "已核实"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.handled_by == world.auditor and alert.note == "已核实"
    assert LedgerEntry.objects.filter(action="audit.alert.handle").exists()


def test_an_alert_of_another_institution_cannot_be_handled(world, login):
    from careledger.accounts.models import User

    reads_at(world.nurse, 60)
    scan(hours=1, now=next_hour())
    alert = Alert.objects.get()
    foreign = User.objects.create_user(
        username="auditor2", password="x" * 12, role="auditor", institution=world.other_inst
    )
    http = login(foreign)
    assert http.post(f"/audit/alerts/{alert.id}/", {"status": "closed"}).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"
