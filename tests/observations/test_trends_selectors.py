"""`client_trends`: the care team reads a client's trends by panel with the since-last-check-up
summary; every read and every refusal is in the ledger; break-glass reads say "emergency";
the query count does not grow with the number of indicators."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.access.enforce import AccessDenied
from careledger.audit import services as audit_services
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from careledger.observations import selectors
from careledger.observations.models import Observation
from careledger.observations.trends import Significance
from observations.test_trends_data import five_years, write_report

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1968, 3, 2)


@pytest.fixture
def client_a(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(sex="M", birth_date=BIRTH)
    five_years(world.manager, enrolled.client_id)
    return enrolled.client_id


def views_of(client_id) -> list[LedgerEntry]:  # type: ignore[no-untyped-def]
    return list(
        LedgerEntry.objects.filter(client_id=str(client_id), action="observation.view").order_by(
            "seq"
        )
    )


def test_the_care_team_gets_every_indicator_by_panel_in_catalogue_order(world, client_a):
    data = selectors.client_trends(world.manager, client_a)
    assert [p.key for p in data.panels] == [
        "body",
        "vitals",
        "blood_routine",
        "urine_routine",
        "liver",
        "kidney",
        "lipids",
        "glucose",
    ]
    assert [p.name for p in data.panels][:3] == ["体格检查", "生命体征", "血常规"]
    assert [s.indicator.abbreviation for s in data.panels[-1].series] == ["GLU", "HbA1c"]
    assert data.result_count == 50
    assert data.checkup_dates == tuple(dt.date(y, 5, 12) for y in range(2020, 2025))
    glucose = data.panels[-1].series[0]
    assert [p.display for p in glucose.points] == ["5.40", "5.80", "6.20", "6.60", "7.40"]
    assert [p.flag for p in glucose.points] == ["N", "N", "H", "H", "H"]
    assert glucose.latest.band.text == "3.9–6.1"
    assert glucose.latest.source_flag == "↑"
    assert glucose.slope_per_year == pytest.approx(0.49, abs=0.01)
    assert glucose.direction == "up"
    assert glucose.latest.baseline.significance == Significance.RISE
    assert data.sex == "M" and not data.emergency


def test_the_summary_compares_the_two_latest_check_ups(world, client_a):
    summary = selectors.client_trends(world.manager, client_a).summary
    assert summary.latest_date == dt.date(2024, 5, 12)
    assert summary.previous_date == dt.date(2023, 5, 12)
    names = lambda items: [i.indicator.abbreviation for i in items]  # noqa: E731
    assert names(summary.new_abnormal) == ["CREA"]
    assert names(summary.resolved) == ["SBP", "DBP", "PRO", "ALT"]
    assert names(summary.significant) == ["ALT", "CREA", "LDL-C", "HbA1c"]
    alt = summary.significant[0]
    assert (alt.before.display, alt.after.display, alt.unit) == ("58", "30", "U/L")
    assert alt.change.significance == Significance.FALL


def test_the_read_is_ledgered_once_with_its_purpose(world, client_a):
    before = len(views_of(client_a))
    selectors.client_trends(world.doctor, client_a)
    entries = views_of(client_a)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.actor_id == str(world.doctor.id)
    leaf = json.loads(entry.leaf)
    assert entry.outcome == "allowed"
    assert leaf["purpose"] == "care"
    assert leaf["resource"]["type"] == "Observation"
    assert leaf["detail"] == {"view": "trends", "codes": "all", "results": 50}


def test_a_nurse_of_the_care_team_may_read_the_trends(world, client_a):
    data = selectors.client_trends(world.nurse, client_a)
    assert data.result_count == 50
    assert views_of(client_a)[-1].actor_id == str(world.nurse.id)


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_everyone_else_is_refused_and_the_refusal_is_ledgered(world, client_a, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        selectors.client_trends(user, client_a)
    denial = LedgerEntry.objects.filter(actor_id=str(user.id)).order_by("seq").last()
    assert denial.outcome == "denied"
    assert denial.action == "observation.view"
    assert denial.client_id == str(client_a)
    assert not LedgerEntry.objects.filter(
        actor_id=str(user.id), action="observation.view", outcome="allowed"
    ).exists()


def test_under_a_break_glass_grant_the_read_says_emergency(world, client_a):
    with pytest.raises(AccessDenied):
        selectors.client_trends(world.manager_b, client_a)
    audit_services.do_open_break_glass(
        actor=world.manager_b,
        client_id=client_a,
        reason="患者在前台晕倒，需查看近年血糖结果",
        minutes=30,
    )
    data = selectors.client_trends(world.manager_b, client_a)
    assert data.emergency
    assert data.result_count == 50
    entry = views_of(client_a)[-1]
    assert entry.actor_id == str(world.manager_b.id)
    assert json.loads(entry.leaf)["purpose"] == "emergency"


def test_codes_limit_the_indicators_and_aliases_resolve(world, client_a):
    data = selectors.client_trends(world.manager, client_a, codes=["1558-6", "1742-6,2888-6"])
    assert [s.indicator.code for s in data.series] == ["2888-6", "1742-6", "2345-7"]
    assert data.result_count == 15


def test_an_unknown_code_is_refused_by_name(world, client_a):
    with pytest.raises(ValidationFailed) as refused:
        selectors.client_trends(world.manager, client_a, codes=["2345-7", "9999-9"])
    assert refused.value.errors == {"code": ["unknown indicator code: 9999-9"]}


def test_superseded_results_are_not_shown(world, client_a):
    old = Observation.objects.get(client_id=client_a, code="2345-7", effective_at__year=2024)
    Observation.objects.filter(pk=old.pk).update(is_current=False)  # as a correction leaves it
    report = write_report(world.manager, client_a, dt.date(2024, 5, 12), [("2345-7", "6.9")])
    glucose = selectors.client_trends(world.manager, client_a, codes=["2345-7"]).series[0]
    assert [p.value for p in glucose.points][-1] == Decimal("6.9")
    assert len(glucose.points) == 5
    assert report.observations.count() == 1


def test_a_client_without_results_has_no_panels_and_no_summary(world):
    enrolled = world.enrol()
    data = selectors.client_trends(world.manager, enrolled.client_id)
    assert data.panels == () and data.summary is None and data.result_count == 0
    assert len(views_of(enrolled.client_id)) == 1


def test_an_unknown_client_is_not_found(world):
    import uuid

    with pytest.raises(Client.DoesNotExist):
        selectors.client_trends(world.manager, uuid.uuid4())


def test_the_query_count_does_not_grow_with_the_number_of_indicators(world):
    few = world.enrol(sex="F", birth_date=BIRTH).client_id
    write_report(world.manager, few, dt.date(2023, 1, 5), [("2345-7", "5.1")])
    many = world.enrol(sex="M", birth_date=BIRTH).client_id
    five_years(world.manager, many)

    def queries(client_id) -> int:  # type: ignore[no-untyped-def]
        fresh = type(world.manager).objects.get(pk=world.manager.pk)  # no cached care teams
        with CaptureQueriesContext(connection) as captured:
            selectors.client_trends(fresh, client_id)
        return len(captured.captured_queries)

    assert queries(few) == queries(many)


def test_observations_are_read_in_one_query(world, client_a):
    with CaptureQueriesContext(connection) as captured:
        selectors.client_trends(world.manager, client_a)
    observation_reads = [
        q["sql"] for q in captured.captured_queries if 'FROM "observations_observation"' in q["sql"]
    ]
    assert len(observation_reads) == 1
