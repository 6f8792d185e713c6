"""The auditor finds any access: filters, scope, paging, CSV export; who may not."""

from __future__ import annotations

import csv
import io

import pytest

from careledger.audit.selectors import PAGE_SIZE, neutralise_formula
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world, login):  # type: ignore[no-untyped-def]
    """The manager enrols and opens a client; manager_b is refused it; an outsider too."""
    enrolled = world.enrol(name="欧阳明月")
    login(world.manager).get(f"/clients/{enrolled.client_id}/")
    login(world.manager_b).get(f"/clients/{enrolled.client_id}/")
    login(world.outsider).get(f"/clients/{enrolled.client_id}/")
    return enrolled


def test_filter_by_user_shows_that_users_events_only(world, history, login):
    http = login(world.auditor)
    response = http.get("/audit/events/", {"username": "manager_b"})
    rows = response.context["rows"]
    assert rows and {r.actor_id for r in rows} == {str(world.manager_b.id)}
    assert any(r.outcome == "denied" and r.reason == "not_in_care_team" for r in rows)


def test_filter_by_card_number_shows_every_event_on_the_client_even_from_outside(
    world, history, login
):
    http = login(world.auditor)
    response = http.get("/audit/events/", {"client": history.card_number})
    rows = response.context["rows"]
    actors = {r.actor_id for r in rows}
    assert str(world.manager.id) in actors and str(world.manager_b.id) in actors
    assert str(world.outsider.id) in actors  # the other institution's refused attempt
    assert all(r.client_id == str(history.client_id) for r in rows)
    assert "欧阳明月" not in response.content.decode()


def test_filter_by_client_id_outcome_action_and_dates(world, history, login):
    http = login(world.auditor)
    rows = http.get(
        "/audit/events/", {"client": str(history.client_id), "outcome": "denied"}
    ).context["rows"]
    assert rows and all(r.outcome == "denied" for r in rows)
    rows = http.get("/audit/events/", {"action": "client.enrol"}).context["rows"]
    assert rows and all(r.action.startswith("client.enrol") for r in rows)
    rows = http.get("/audit/events/", {"since": "2000-01-01", "until": "2000-01-02"}).context[
        "rows"
    ]
    assert rows == []


def test_without_a_client_filter_only_the_institutions_own_staff_appear(world, history, login):
    rows = login(world.auditor).get("/audit/events/").context["rows"]
    assert str(world.outsider.id) not in {r.actor_id for r in rows}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client", "not-a-card"),
        ("client", "00000000-0000-0000-0000-000000000000"),
        ("username", "nobody-here"),
        ("username", "outsider"),  # a user of another institution
        ("since", "2026-13-45"),
    ],
)
def test_bad_filters_name_the_field(world, history, login, field, value):
    response = login(world.auditor).get("/audit/events/", {field: value})
    assert field in response.context["form"].errors
    assert response.context["rows"] == []


def test_the_end_date_may_not_precede_the_start(world, login):
    response = login(world.auditor).get(
        "/audit/events/", {"since": "2026-05-02", "until": "2026-05-01"}
    )
    assert response.status_code == 400 and "until" in response.context["form"].errors


def test_paging_by_sequence(world, login):
    for _ in range(PAGE_SIZE + 5):
        world.enrol()
    http = login(world.auditor)
    first = http.get("/audit/events/")
    older = first.context["next_before"]
    assert older is not None and len(first.context["rows"]) == PAGE_SIZE
    second = http.get("/audit/events/", {"before": older})
    assert second.context["rows"][0].seq < older


def test_every_search_is_itself_ledgered_without_the_values_typed(world, history, login):
    login(world.auditor).get("/audit/events/", {"client": history.card_number})
    event = LedgerEntry.objects.filter(action="audit.search").last()
    assert event.actor_id == str(world.auditor.id)
    assert event.client_id == str(history.client_id)
    assert history.card_number not in event.leaf and '"filters":["client"]' in event.leaf


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "admin", "analyst", "outsider"])
def test_only_auditors_search_and_export(world, history, login, who):
    http = login(getattr(world, who))
    assert http.get("/audit/events/").status_code == 403
    assert http.get("/audit/events/export.csv").status_code == 403
    assert http.get("/audit/alerts/").status_code == 403


def test_export_is_csv_audited_and_neutralises_formulas(world, history, login):
    world.manager_b.display_name = '=HYPERLINK("http://evil","x")'
    world.manager_b.save()
    response = login(world.auditor).get("/audit/events/export.csv", {"username": "manager_b"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["seq", "time", "actor_id"]
    assert len(rows) > 1
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
    assert any(cell.startswith("'=HYPERLINK") for row in rows[1:] for cell in row)
    export = LedgerEntry.objects.get(action="audit.export")
    assert export.actor_id == str(world.auditor.id) and '"filters":["username"]' in export.leaf


def test_neutralise_formula() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise_formula(dangerous).startswith("'")
    assert neutralise_formula("client.view") == "client.view"
    assert neutralise_formula("") == ""


def test_an_export_with_a_bad_filter_is_refused_and_exports_nothing(world, history, login):
    response = login(world.auditor).get("/audit/events/export.csv", {"client": "not-a-card"})
    assert response.status_code == 302 and response["Location"] == "/audit/events/"
    assert not LedgerEntry.objects.filter(action="audit.export").exists()
