"""Re-evaluation over the real database: facts, tags applied and removed, history, idempotence,
the ledger."""

from __future__ import annotations

import pytest
from tests.tagging.conftest import at, condition, person, publish, run

from careledger.ledger.models import LedgerEntry
from careledger.tagging.models import ClientTag, TagEvent

pytestmark = pytest.mark.django_db


def test_a_rule_applies_its_tag_with_the_facts_that_fired_it(world, lab):
    high = person(world, sex="M")
    normal = person(world, sex="F")
    lab.results(high, at(2024), {"8480-6": ("150", "mmHg")})
    lab.results(normal, at(2024), {"8480-6": ("118", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140 or has_condition('I10')")

    outcome = run(world)

    assert outcome.applied == 1 and outcome.removed == 0
    carried = ClientTag.objects.get(tag=tag, active=True)
    assert carried.client_id == high.id and carried.source == "rule"
    event = TagEvent.objects.get(client=high)
    assert event.op == "applied" and event.why == "rule_fired"
    assert event.rule.version == 1
    assert event.facts == {"latest:8480-6": 150.0, "has_condition:I10": False}
    assert event.actor is None and event.trigger == "test"
    entry = LedgerEntry.objects.get(action="tag.evaluate", client_id=str(high.id))
    assert entry.actor_id == "system:tagging"


def test_re_evaluation_is_idempotent_and_removes_a_tag_whose_rule_stops_firing(world, lab):
    client = person(world)
    lab.results(client, at(2023), {"8480-6": ("150", "mmHg")})
    publish(world, "hypertension", "latest('8480-6') >= 140")
    assert run(world).applied == 1
    before = (TagEvent.objects.count(), LedgerEntry.objects.count())

    again = run(world)

    assert (again.applied, again.removed) == (0, 0)
    assert (TagEvent.objects.count(), LedgerEntry.objects.count()) == before
    lab.results(client, at(2024), {"8480-6": ("128", "mmHg")})
    assert run(world).removed == 1
    removal = TagEvent.objects.filter(client=client).first()
    assert removal.op == "removed" and removal.why == "rule_stopped"
    assert removal.facts == {"latest:8480-6": 128.0}
    assert not ClientTag.objects.filter(client=client, active=True).exists()


def test_condition_prefix_previous_change_and_slope(world, lab):
    diabetic = person(world)
    rising = person(world)
    condition(world, diabetic, "E11.9")
    for year, value in [(2020, "5.2"), (2021, "5.6"), (2022, "6.0"), (2023, "6.5")]:
        lab.results(rising, at(year), {"2345-7": (value, "mmol/L")})
    publish(world, "diabetes", "has_condition('E11')")
    publish(world, "rising_glucose", "slope('2345-7') > 0.3 and change('2345-7') >= 0.5")
    publish(world, "glucose_was_normal", "previous('2345-7') < 6.1 and flag('2345-7') = 'H'")

    run(world)

    tags = {
        (t.client_id, t.tag.code)
        for t in ClientTag.objects.filter(active=True).select_related("tag")
    }
    assert tags == {
        (diabetic.id, "diabetes"),
        (rising.id, "rising_glucose"),
        (rising.id, "glucose_was_normal"),
    }
    event = TagEvent.objects.get(client=rising, tag__code="rising_glucose")
    assert event.facts["change:2345-7"] == pytest.approx(0.5)
    # The trend view's own OLS slope per year of the same series.
    days = [(at(y) - at(2020)).days / 365.25 for y in (2020, 2021, 2022, 2023)]
    values = [5.2, 5.6, 6.0, 6.5]
    mx, my = sum(days) / 4, sum(values) / 4
    expected = sum((x - mx) * (y - my) for x, y in zip(days, values, strict=True)) / sum(
        (x - mx) ** 2 for x in days
    )
    assert event.facts["slope:2345-7"] == pytest.approx(expected, abs=1e-4)


def test_a_resolved_condition_does_not_fire_and_age_and_sex_do(world):
    import datetime as dt

    old_man = person(world, sex="M", birth_date=dt.date(1950, 1, 1))
    young = person(world, sex="M", birth_date=dt.date(2000, 1, 1))
    condition(world, young, "I10", status="resolved")
    publish(world, "senior_male", "age >= 65 and sex = 'M'")
    publish(world, "hypertension", "has_condition('I10')")

    run(world)

    carried = {(t.client_id, t.tag.code) for t in ClientTag.objects.select_related("tag")}
    assert carried == {(old_man.id, "senior_male")}


def test_evaluating_one_client_touches_only_that_client(world, lab):
    a = person(world)
    b = person(world)
    publish(world, "hypertension", "latest('8480-6') >= 140")
    lab.results(a, at(2024), {"8480-6": ("150", "mmHg")})
    lab.results(b, at(2024), {"8480-6": ("150", "mmHg")})

    outcome = run(world, client_ids=[str(a.id)])

    assert outcome.clients == 1
    assert list(ClientTag.objects.values_list("client_id", flat=True)) == [a.id]
