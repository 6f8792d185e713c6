"""The catalogue's services: the built-in load (idempotent, edits never overwritten), versions
on edit (the old kept), retire and reinstate, validation, the ledger, and who may."""

from __future__ import annotations

import json

import pytest

from careledger.access.enforce import AccessDenied
from careledger.advice import catalogue
from careledger.advice.catalogue_services import (
    CONTENT_FIELDS,
    do_add_item,
    do_edit_item,
    do_ensure_builtin,
    do_reinstate_item,
    do_retire_item,
)
from careledger.advice.models import AdviceItem
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify

pytestmark = pytest.mark.django_db

N = len(catalogue.builtin_items())


def edit_data(row: AdviceItem, **changes):  # type: ignore[no-untyped-def]
    data = {
        name: getattr(row, name)
        for name in ("domain", "priority", "title", "body", "title_en", "body_en")
    }
    data |= {
        "citations": row.citations,
        "applies": row.applies,
        "replaces": row.replaces,
        "needs_clinician": row.needs_clinician,
    }
    return data | changes


def current(world, code: str) -> AdviceItem:  # type: ignore[no-untyped-def]
    return AdviceItem.objects.exclude(status="superseded").get(institution=world.inst, code=code)


def test_the_built_in_load_is_idempotent_per_institution_and_ledgered_with_row_seals(world):
    first = do_ensure_builtin(institution_id=world.inst.id)
    assert (first.created, first.refreshed, first.kept) == (N, 0, 0)
    events = LedgerEntry.objects.filter(action="advice.catalogue.load")
    assert events.count() == 1
    leaf = json.loads(events.get().leaf)
    assert len(leaf["seals"]) == N and leaf["detail"]["created"] == N
    again = do_ensure_builtin(institution_id=world.inst.id)
    assert (again.created, again.refreshed, again.kept) == (0, 0, N)
    assert events.count() == 1  # nothing written, nothing to record
    do_ensure_builtin(institution_id=world.other_inst.id)
    assert AdviceItem.objects.filter(institution=world.other_inst).count() == N
    assert verify().ok


def test_editing_makes_a_new_version_and_keeps_the_old(world):
    do_ensure_builtin(institution_id=world.inst.id)
    old = current(world, "general.diet.salt")
    new = do_edit_item(
        actor=world.admin,
        code=old.code,
        data=edit_data(old, body="每天食盐不超过5 g，本中心提供定量盐勺。"),
        change_note="加入本中心的做法",
    )
    assert (new.version, new.status, new.origin) == (2, "active", "institution")
    old.refresh_from_db()
    assert old.status == "superseded" and old.body != new.body
    assert new.created_by == world.admin and new.change_note == "加入本中心的做法"
    unchanged = do_edit_item(actor=world.admin, code=old.code, data=edit_data(new))
    assert unchanged.pk == new.pk  # no change, no version
    event = LedgerEntry.objects.filter(action="advice.catalogue.update").last()
    leaf = json.loads(event.leaf)
    assert leaf["detail"] == {"op": "edit", "code": old.code, "version": 2, "status": "active"}
    assert {s["id"] for s in leaf["seals"]} == {str(old.pk), str(new.pk)}
    assert verify().ok


def test_a_reload_never_overwrites_an_edit_or_a_retirement(world):
    do_ensure_builtin(institution_id=world.inst.id)
    salt = current(world, "general.diet.salt")
    do_edit_item(actor=world.admin, code=salt.code, data=edit_data(salt, title="少盐（本中心）"))
    do_retire_item(actor=world.admin, code="general.diet.shared_plates")
    result = do_ensure_builtin(institution_id=world.inst.id)
    assert (result.created, result.refreshed) == (0, 0)
    assert current(world, "general.diet.salt").title == "少盐（本中心）"
    assert current(world, "general.diet.shared_plates").status == "retired"


def test_a_reload_refreshes_an_untouched_item_when_the_built_in_file_changed(world):
    """An institution loaded an older wording of an item and never touched it: a reload with
    the current file writes the new wording as a new version (the old one is kept)."""
    do_ensure_builtin(institution_id=world.inst.id)
    row = current(world, "general.diet.labels")
    older = {name: getattr(row, name) for name in CONTENT_FIELDS} | {"title": "旧的措辞"}
    # As if loaded from an earlier file: the row says the old wording and carries its digest.
    AdviceItem.objects.filter(pk=row.pk).update(
        title="旧的措辞", builtin_digest=catalogue.content_digest(**older)
    )
    result = do_ensure_builtin(institution_id=world.inst.id)
    assert (result.created, result.refreshed) == (0, 1)
    fresh = current(world, "general.diet.labels")
    assert fresh.version == 2 and fresh.title != "旧的措辞" and fresh.origin == "builtin"
    assert AdviceItem.objects.get(pk=row.pk).status == "superseded"


def test_adding_retiring_and_reinstating_an_item(world):
    data = {
        "domain": "exercise",
        "priority": "30",
        "title": "本中心健步走活动",
        "body": "每周六上午在中心门口集合，健步走5公里。",
        "citations": "中国人群身体活动指南(2021) | 2021年版 | 总则",
        "applies": "tag:sedentary\ntag:overweight & tag:diabetes",
    }
    row = do_add_item(actor=world.admin, code="Center.Walk", data=data)
    assert row.code == "center.walk" and row.origin == "institution"
    assert row.applies == [["tag:sedentary"], ["tag:diabetes", "tag:overweight"]]
    assert row.citations == [
        {"guideline": "中国人群身体活动指南(2021)", "edition": "2021年版", "section": "总则"}
    ]
    with pytest.raises(ValidationFailed) as taken:
        do_add_item(actor=world.admin, code="center.walk", data=data)
    assert "code" in taken.value.errors
    assert do_retire_item(actor=world.admin, code="center.walk").status == "retired"
    with pytest.raises(ValidationFailed):
        do_edit_item(actor=world.admin, code="center.walk", data=data)
    back = do_reinstate_item(actor=world.admin, code="center.walk")
    assert back.status == "active" and back.retired_by is None
    ops = [
        json.loads(e.leaf)["detail"]["op"]
        for e in LedgerEntry.objects.filter(action="advice.catalogue.update")
    ]
    assert ops == ["add", "retire", "reinstate"]


def test_validation_names_every_bad_field(world):
    with pytest.raises(ValidationFailed) as caught:
        do_add_item(
            actor=world.admin,
            code="x",
            data={
                "domain": "astrology",
                "priority": "0",
                "title": "",
                "body": "",
                "citations": "只写了指南名",
                "applies": "tag:ok\nhypertension",
            },
        )
    errors = caught.value.errors
    assert set(errors) == {"domain", "priority", "title", "body", "citations", "applies"}
    assert errors["applies"][0].startswith("line 2:")
    with pytest.raises(ValidationFailed) as bad_code:
        do_add_item(actor=world.admin, code="空格 code", data={})
    assert set(bad_code.value.errors) == {"code"}


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst"])
def test_only_the_institution_admin_edits_the_catalogue_refusals_ledgered(world, who):
    do_ensure_builtin(institution_id=world.inst.id)
    user = getattr(world, who)
    row = current(world, "general.diet.salt")
    before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
    for attempt in (
        lambda: do_edit_item(actor=user, code=row.code, data=edit_data(row, title="改")),
        lambda: do_retire_item(actor=user, code=row.code),
        lambda: do_add_item(actor=user, code="mine", data=edit_data(row)),
    ):
        with pytest.raises(AccessDenied):
            attempt()
    after = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied")
    assert after.count() == before + 3
    assert {e.action for e in after} == {"advice.manage"}
    assert current(world, "general.diet.salt").version == 1


def test_another_institution_s_admin_cannot_reach_this_catalogue(world):
    from careledger.accounts.models import User

    do_ensure_builtin(institution_id=world.inst.id)
    other_admin = User.objects.create_user(
        username="admin2",
        password="x-Correct-horse-9",
        role="institution_admin",
        institution=world.other_inst,
        display_name="admin2",
    )
    with pytest.raises(AdviceItem.DoesNotExist):
        do_retire_item(actor=other_admin, code="general.diet.salt")
    assert current(world, "general.diet.salt").status == "active"
