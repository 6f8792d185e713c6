"""Tags and rule versions, manual tags (sealed reasons, ledger), and the hooks that re-evaluate
a client after an import or a record edit."""

from __future__ import annotations

import pytest
from django.db import connection
from tests.tagging.conftest import at, condition, person, publish, run

from careledger.celery import app as celery_app
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry, RowSeal
from careledger.tagging import services
from careledger.tagging.models import ClientTag, TagEvent, TagRule
from careledger.tagging.services import RuleInvalid, TagInput

pytestmark = pytest.mark.django_db


def test_a_draft_is_validated_on_save_with_the_spot(world):
    tag = services.do_create_tag(actor=world.admin, data=TagInput("hypertension", "高血压"))
    with pytest.raises(RuleInvalid) as caught:
        services.do_save_draft(actor=world.admin, tag_id=tag.id, expression="latest('1-1') > 1")
    assert caught.value.error.code == "unknown_indicator"
    assert (caught.value.error.line, caught.value.error.col) == (1, 8)
    assert not TagRule.objects.exists()


def test_versions_publish_retire_and_published_ones_never_change(world):
    tag = services.do_create_tag(
        actor=world.admin, data=TagInput("hypertension", "高血压"), expression="age > 200"
    )
    v1 = tag.rules.get()
    services.do_publish_rule(actor=world.admin, rule_id=v1.id)
    # Editing after publishing opens version 2; version 1 stays as it was.
    v2 = services.do_save_draft(actor=world.admin, tag_id=tag.id, expression="age > 100")
    assert v2.version == 2
    v1.refresh_from_db()
    assert (v1.status, v1.expression) == ("published", "age > 200")
    services.do_publish_rule(actor=world.admin, rule_id=v2.id)
    v1.refresh_from_db()
    assert v1.status == "retired" and v1.retired_at is not None
    with pytest.raises(ValidationFailed):
        services.do_publish_rule(actor=world.admin, rule_id=v1.id)
    assert TagRule.objects.get(tag=tag, status="published").version == 2
    actions = set(LedgerEntry.objects.values_list("action", flat=True))
    assert {"tag.rule.create_tag", "tag.rule.draft", "tag.rule.publish"} <= actions


def test_publishing_and_data_changes_enqueue_re_evaluation_after_commit(
    world, lab, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # The Celery app reads its configuration once: set it there too (restored after the test).
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    client = person(world)
    with django_capture_on_commit_callbacks(execute=True):
        publish(world, "hypertension", "has_condition('I10') or latest('8480-6') >= 140")
    assert not ClientTag.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        condition(world, client, "I10")  # a record edit
    assert len(callbacks) == 1
    assert ClientTag.objects.get(active=True).client_id == client.id
    other = person(world)
    with django_capture_on_commit_callbacks(execute=True):
        lab.results(other, at(2024), {"8480-6": ("160", "mmHg")})  # an import
    assert ClientTag.objects.filter(active=True, client=other).exists()
    event = TagEvent.objects.get(client=other)
    assert event.trigger == "data_change"


def test_retiring_a_rule_removes_its_tags_saying_why(world, lab):
    client = person(world)
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140")
    run(world)
    services.do_retire_rule(actor=world.admin, rule_id=tag.rules.get().id)
    assert run(world).removed == 1
    event = TagEvent.objects.filter(client=client).first()
    assert (event.op, event.why, event.rule.version) == ("removed", "rule_retired", 1)


def test_a_published_rule_that_stops_compiling_keeps_its_tags_and_is_reported(world, lab):
    from careledger.tagging.models import ClientTag, TagRule

    client = person(world)
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140")
    run(world)
    # The vocabulary moved under the rule (simulated: an expression it no longer accepts).
    TagRule.objects.filter(tag=tag).update(expression="latest('0000-0') >= 140")
    outcome = run(world)
    assert outcome.skipped_rules == [str(tag.id)]
    assert (outcome.applied, outcome.removed) == (0, 0)
    assert ClientTag.objects.get(client=client, tag=tag).active


def test_manual_tags_seal_the_reason_and_the_rows(world):
    client = person(world)
    tag = services.do_create_tag(actor=world.admin, data=TagInput("vip_followup", "重点随访"))
    event = services.do_apply_manual_tag(
        actor=world.doctor, client_id=client.id, tag_id=tag.id, reason="家属要求每月电话随访"
    )
    row = ClientTag.objects.get(client=client, source="manual")
    assert row.active and row.applied_by == world.doctor
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM tagging_tagevent")
        raw = cursor.fetchone()[0]
    assert "家属" not in raw and len(raw) > 40
    assert TagEvent.objects.get(pk=event.pk).reason == "家属要求每月电话随访"
    entry = LedgerEntry.objects.get(action="tag.apply")
    assert entry.client_id == str(client.id) and "家属" not in entry.leaf
    sealed = set(RowSeal.objects.filter(seq=entry.seq).values_list("table", flat=True))
    assert sealed == {"tagging_clienttag", "tagging_tagevent"}
    with pytest.raises(ValidationFailed):
        services.do_apply_manual_tag(
            actor=world.doctor, client_id=client.id, tag_id=tag.id, reason="again"
        )
    services.do_remove_manual_tag(
        actor=world.manager, client_id=client.id, tag_id=tag.id, reason="已改为季度随访"
    )
    row.refresh_from_db()
    assert not row.active


def test_a_rule_tag_cannot_be_removed_by_hand_and_a_reason_is_required(world, lab):
    client = person(world)
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    tag = publish(world, "hypertension", "latest('8480-6') >= 140")
    run(world)
    with pytest.raises(ValidationFailed) as caught:
        services.do_remove_manual_tag(
            actor=world.doctor, client_id=client.id, tag_id=tag.id, reason="not hypertensive"
        )
    assert "tag" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        services.do_apply_manual_tag(
            actor=world.doctor, client_id=client.id, tag_id=tag.id, reason=" "
        )
    assert "reason" in caught.value.errors


def test_ledger_verify_finds_a_tag_switched_on_behind_the_application(world, lab):
    from careledger.ledger.verify import verify

    client = person(world)
    lab.results(client, at(2024), {"8480-6": ("150", "mmHg")})
    publish(world, "hypertension", "latest('8480-6') >= 140")
    run(world)
    assert verify().ok
    ClientTag.objects.update(active=False)
    assert not verify().ok
