"""The path that runs after a new result for one client (risk models, then tags: the task the
import's `facts_changed` hook enqueues) reads a fixed number of queries, whatever the client's
history and however many other clients the institution holds; and the population reads give
the same latest values, previous values, slopes and risk levels as before (ranked in polars)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.tagging.conftest import at, person, publish, run

from careledger.assessment.services import assess_institution
from careledger.observations.population import current_results, latest_values
from careledger.tagging.models import ClientTag
from careledger.tagging.tasks import reevaluate_clients

pytestmark = pytest.mark.django_db

RULES = {
    "hypertension": "latest('8480-6') >= 140",
    "sbp_jump": "change('8480-6') >= 20",
    "rising": "slope('2345-7') > 0.2",
    "ascvd_high": "risk('bp_grade') in ('grade_1', 'grade_2', 'grade_3')",
}


def _queries(client_id: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        reevaluate_clients([client_id])
    return len(captured.captured_queries)


def test_one_client_after_a_new_result_reads_a_fixed_number_of_queries(world, lab):
    for code, expression in RULES.items():
        publish(world, code, expression)
    first = person(world)
    lab.results(first, at(2024), {"8480-6": ("128", "mmHg"), "2345-7": ("5.1", "mmol/L")})
    reevaluate_clients([str(first.id)])
    lab.results(
        first,
        at(2025),
        {"8480-6": ("150", "mmHg"), "8462-4": ("95", "mmHg"), "2345-7": ("5.6", "mmol/L")},
    )
    small = _queries(str(first.id))  # writes the new risks and tags

    other = person(world)
    for year in (2020, 2021, 2022, 2023, 2024):
        values = {"8480-6": (str(118 + 6 * (year - 2020)), "mmHg"), "2345-7": ("5.0", "mmol/L")}
        lab.results(other, at(year), values)
    for _ in range(5):
        person(world)  # more clients in the institution
    reevaluate_clients([str(other.id)])
    lab.results(
        other,
        at(2025),
        {"8480-6": ("162", "mmHg"), "8462-4": ("101", "mmHg"), "2345-7": ("6.4", "mmol/L")},
    )
    large = _queries(str(other.id))

    assert large == small
    assert small <= 60, small
    tags = set(
        ClientTag.objects.filter(client=other, active=True).values_list("tag__code", flat=True)
    )
    assert {"hypertension", "sbp_jump", "rising", "ascvd_high"} <= tags


def test_latest_values_rank_by_time_then_storage_and_skip_text_results(world, lab):
    client = person(world)
    lab.results(client, at(2023), {"8480-6": ("150", "mmHg")})
    lab.results(client, at(2025), {"8480-6": ("132", "mmHg")})
    lab.results(client, at(2024), {"8480-6": ("141", "mmHg")})

    frame = latest_values(institution_id=world.inst.id, codes=["8480-6"], per_code=2)
    assert frame.sort("rank").select("rank", "value").rows() == [(1, 132.0), (2, 141.0)]
    assert frame["client_id"].to_list() == [str(client.id)] * 2
    one = latest_values(institution_id=world.inst.id, codes=["8480-6"], client_ids=[client.id])
    assert one["value"].to_list() == [132.0]
    assert one["effective_at"].dt.year().to_list() == [2025]
    every = current_results(institution_id=world.inst.id, codes=["8480-6"])
    assert sorted(every["value"].to_list()) == [132.0, 141.0, 150.0]


def test_the_population_run_and_the_one_client_run_agree(world, lab):
    publish(world, "hypertension", "latest('8480-6') >= 140")
    publish(world, "ascvd_high", "risk('bp_grade') in ('grade_1', 'grade_2', 'grade_3')")
    clients = [person(world) for _ in range(3)]
    for n, client in enumerate(clients):
        lab.results(client, at(2025), {"8480-6": (str(120 + 15 * n), "mmHg")})
    assess_institution(institution_id=world.inst.id)
    run(world)
    population = set(ClientTag.objects.filter(active=True).values_list("client_id", "tag__code"))
    ClientTag.objects.all().delete()
    for client in clients:
        reevaluate_clients([str(client.id)])
    one_by_one = set(ClientTag.objects.filter(active=True).values_list("client_id", "tag__code"))
    assert population == one_by_one
    assert (clients[2].id, "hypertension") in population
