"""Writing the health record: each section's happy path, versions kept as revisions, retraction
instead of deletion, one current lifestyle entry, and bad input named field by field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from careledger.records import sections
from careledger.records.models import ConditionEntry, EntryRevision, LifestyleEntry
from careledger.records.services import do_add_entry, do_retract_entry, do_update_entry
from records.conftest import VALID

pytestmark = pytest.mark.django_db


def add(world, member, section, **changes):  # type: ignore[no-untyped-def]
    return do_add_entry(
        actor=world.manager,
        client_id=member.id,
        section=section,
        data={**VALID[section], **changes},
    )


def errors_of(world, member, section, **changes) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        add(world, member, section, **changes)
    return caught.value.errors


@pytest.mark.parametrize("section", list(VALID))
def test_each_section_stores_an_entry_with_its_first_revision_and_a_sealed_event(
    world, member, section
):
    saved = add(world, member, section)
    spec = sections.get(section)
    row = spec.model.objects.get(pk=saved.id)
    assert row.client_id == member.id and row.institution_id == member.institution_id
    assert row.version == 1 and row.status == "active" and row.recorded_by == world.manager
    assert row.note == VALID[section]["note"]
    revision = EntryRevision.objects.get(entry_id=row.id)
    assert revision.version == 1 and revision.section == section
    assert json.loads(revision.snapshot)["note"] == VALID[section]["note"]
    event = LedgerEntry.objects.filter(client_id=str(member.id), action="record.update").last()
    leaf = json.loads(event.leaf)
    assert leaf["resource"] == {"type": spec.resource_type, "id": str(row.id)}
    assert leaf["detail"]["op"] == "add" and leaf["purpose"] == "care"
    assert {s["table"] for s in leaf["seals"]} == {row._meta.db_table, "records_entryrevision"}
    assert VALID[section]["note"] not in event.leaf  # ids and field names only


def test_values_are_normalised_as_stored(world, member):
    saved = add(world, member, "conditions", code=" e78.5 高脂血症", onset="2018年3月")
    row = ConditionEntry.objects.get(pk=saved.id)
    assert row.code == "E78.5" and row.onset == "2018-03"
    medication = sections.get("medications").model.objects.get(
        pk=add(world, member, "medications", dose_value="0.5", dose_unit="g").id
    )
    assert medication.dose_value == Decimal("0.500")


def test_an_edit_keeps_the_old_version_in_a_revision_with_who_and_why(world, member):
    saved = add(world, member, "conditions")
    do_update_entry(
        actor=world.doctor,
        client_id=member.id,
        section="conditions",
        entry_id=saved.id,
        data={**VALID["conditions"], "clinical_status": "remission", "note": "已停药半年"},
        reason="复诊后更新",
    )
    row = ConditionEntry.objects.get(pk=saved.id)
    assert row.version == 2 and row.clinical_status == "remission"
    assert row.updated_by == world.doctor and row.recorded_by == world.manager
    first, second = EntryRevision.objects.filter(entry_id=saved.id).order_by("version")
    assert json.loads(first.snapshot)["clinical_status"] == "active"
    assert json.loads(first.snapshot)["note"] == VALID["conditions"]["note"]
    assert second.changed_fields == ["clinical_status", "note"]
    assert second.changed_by == world.doctor and second.reason == "复诊后更新"


def test_an_edit_that_changes_nothing_makes_no_new_version(world, member):
    saved = add(world, member, "medications")
    again = do_update_entry(
        actor=world.manager,
        client_id=member.id,
        section="medications",
        entry_id=saved.id,
        data=VALID["medications"],
    )
    assert again.version == 1
    assert EntryRevision.objects.filter(entry_id=saved.id).count() == 1


def test_a_retracted_entry_is_kept_marked_in_error_with_its_reason_and_closed(world, member):
    saved = add(world, member, "allergies")
    done = do_retract_entry(
        actor=world.manager,
        client_id=member.id,
        section="allergies",
        entry_id=saved.id,
        reason="录入到了错误的客户",
    )
    row = sections.get("allergies").model.objects.get(pk=saved.id)
    assert done.version == 2 and row.status == "entered_in_error"
    last = EntryRevision.objects.get(entry_id=saved.id, version=2)
    assert last.status == "entered_in_error" and last.reason == "录入到了错误的客户"
    with pytest.raises(ValidationFailed):
        do_update_entry(
            actor=world.manager,
            client_id=member.id,
            section="allergies",
            entry_id=saved.id,
            data=VALID["allergies"],
        )


def test_retracting_needs_a_reason(world, member):
    saved = add(world, member, "surgeries")
    with pytest.raises(ValidationFailed) as caught:
        do_retract_entry(
            actor=world.manager,
            client_id=member.id,
            section="surgeries",
            entry_id=saved.id,
            reason="  ",
        )
    assert "reason" in caught.value.errors


def test_an_entry_of_another_client_is_not_found_through_this_one(world, member):
    other = world.enrol()
    saved = add(world, member, "conditions")
    with pytest.raises(ConditionEntry.DoesNotExist):
        do_update_entry(
            actor=world.manager,
            client_id=other.client_id,
            section="conditions",
            entry_id=saved.id,
            data=VALID["conditions"],
        )


def test_lifestyle_has_one_current_entry_edited_in_place(world, member):
    saved = add(world, member, "lifestyle")
    errors = errors_of(world, member, "lifestyle")
    assert "__all__" in errors
    do_update_entry(
        actor=world.manager,
        client_id=member.id,
        section="lifestyle",
        entry_id=saved.id,
        data={**VALID["lifestyle"], "smoking": "former", "cigarettes_per_day": ""},
    )
    assert LifestyleEntry.objects.get(client=member).version == 2
    do_retract_entry(
        actor=world.manager,
        client_id=member.id,
        section="lifestyle",
        entry_id=saved.id,
        reason="问卷答错了",
    )
    add(world, member, "lifestyle")  # after the retraction a new current entry may start
    assert LifestyleEntry.objects.filter(client=member, status="active").count() == 1


def test_an_unknown_icd10_code_is_refused_naming_the_field(world, member):
    assert (
        "Unknown ICD-10 code “X99.9”"
        in errors_of(world, member, "conditions", code="x99.9")["code"][0]
    )
    suggestion = errors_of(world, member, "family_history", code="E11.7")["code"][0]
    assert "Did you mean E11 (2型糖尿病)" in suggestion
    assert "required" in errors_of(world, member, "conditions", code="")["code"][0]


def test_a_future_onset_and_one_before_birth_are_refused(world, member):
    next_year = str(timezone.localdate().year + 1)
    assert "in the future" in errors_of(world, member, "conditions", onset=next_year)["onset"][0]
    assert (
        "before the client was born"
        in (errors_of(world, member, "surgeries", performed="1969-12")["performed"][0])
    )
    assert "is not a date" in errors_of(world, member, "conditions", onset="去年")["onset"][0]
    # This year (not yet over) is not in the future.
    add(world, member, "conditions", onset=str(timezone.localdate().year))


def test_a_dose_needs_its_unit_and_a_unit_its_dose(world, member):
    assert "unit" in errors_of(world, member, "medications", dose_unit="")["dose_unit"][0]
    assert "amount" in errors_of(world, member, "medications", dose_value="")["dose_value"][0]
    bad = errors_of(world, member, "medications", dose_value="五")
    assert "not a number" in bad["dose_value"][0]


def test_an_end_before_the_start_is_refused_but_the_same_month_is_not(world, member):
    errors = errors_of(world, member, "medications", start="2016-05-10", end="2016-04")
    assert errors["end"] == ["The end (2016-04) is before the start (2016-05-10)."]
    add(world, member, "medications", start="2016-05-10", end="2016-05")


def test_every_problem_of_a_form_is_reported_at_once(world, member):
    errors = errors_of(
        world,
        member,
        "lifestyle",
        smoking="current",
        cigarettes_per_day="",
        alcohol="sometimes",
        sleep_hours="25",
        activity_minutes_per_week="120",
        activity_intensity="",
    )
    assert set(errors) == {"cigarettes_per_day", "alcohol", "sleep_hours", "activity_intensity"}
    assert "plausible range" in errors["sleep_hours"][0]


def test_answers_that_contradict_the_status_are_refused(world, member):
    errors = errors_of(world, member, "lifestyle", smoking="never", alcohol="never")
    assert set(errors) == {"cigarettes_per_day", "smoking_years", "alcohol_grams_per_week"}
    assert "severity" in errors_of(world, member, "allergies", reaction="")["reaction"][0]


def test_vital_signs_are_not_edited_in_place(world, member):
    from records.conftest import vitals_data

    saved = do_add_entry(
        actor=world.manager, client_id=member.id, section="vitals", data=vitals_data()
    )
    with pytest.raises(ValidationFailed):
        do_update_entry(
            actor=world.manager,
            client_id=member.id,
            section="vitals",
            entry_id=saved.id,
            data=vitals_data(),
        )


def test_onset_later_today_is_fine_and_tomorrow_is_not(world, member):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    errors = errors_of(world, member, "conditions", onset=tomorrow.isoformat())
    assert "future" in errors["onset"][0]
    add(world, member, "conditions", onset=timezone.localdate().isoformat())
