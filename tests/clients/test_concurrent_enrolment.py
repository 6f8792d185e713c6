"""Two desks enrolling the same person at the same moment: exactly one wins, the other is told
who already holds the card (real threads, real transactions; meaningful on PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from careledger.clients.models import Client
from careledger.clients.services import do_enrol_client
from careledger.clients.validation import ValidationFailed
from conftest import World, client_input


@pytest.mark.django_db(transaction=True)
def test_racing_enrolments_of_one_phone_number_enrol_exactly_one():
    if (connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:")) or (
        connection.vendor == "sqlite" and "mode=memory" in str(connection.settings_dict["NAME"])
    ):
        pytest.skip("in-memory SQLite is one connection; the race needs real connections")
    world = World()
    inputs = [client_input(world.team_a, phone="13900007777") for _ in range(4)]
    barrier = threading.Barrier(len(inputs))
    outcomes: list[str] = []

    def enrol(data):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            enrolled = do_enrol_client(actor=world.manager, data=data)
            outcomes.append("ok:" + enrolled.card_number)
        except ValidationFailed as exc:
            outcomes.append("dup:" + " ".join(exc.errors.get("phone", [])))
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(d,)) for d in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("ok:")]
    assert len(outcomes) == len(inputs), outcomes  # no desk crashed
    assert len(winners) == 1, outcomes
    card = winners[0][3:]
    assert all(card in o for o in outcomes if o.startswith("dup:")), outcomes
    assert Client.objects.count() == 1
