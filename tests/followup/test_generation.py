"""The scheduled generation, through the services: enrolment by trigger, tasks on working days
within the horizon, idempotence, consent per channel, trigger clearing, escalation to the team
lead, lost to follow-up, and the ledger seals of what it wrote."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careledger.consent import services as consent_services
from careledger.followup import generation, services
from careledger.followup.models import Enrolment, FollowupRecord, FollowupTask
from careledger.institutions.models import CareTeamMembership
from careledger.ledger.models import LedgerEntry, RowSeal

pytestmark = pytest.mark.django_db


def run(world, **kw):  # type: ignore[no-untyped-def]
    return generation.generate_institution(institution_id=world.inst.id, **kw)


@pytest.fixture
def tagged(world, fu):  # type: ignore[no-untyped-def]
    """A consenting client of team A carrying the hypertension tag, and the published plan."""
    client_id = world.enrol().client_id
    fu.consent(client_id)
    fu.tag_client(client_id)
    return client_id, fu.plan()


def test_a_tagged_consenting_client_is_enrolled_and_gets_todays_task(world, tagged):
    client_id, version = tagged
    summary = run(world)
    assert (summary.enrolled, summary.tasks) == (1, 1)
    enrolment = Enrolment.objects.get(client_id=client_id)
    assert enrolment.plan_version_id == version.id and enrolment.care_team_id == world.team_a.id
    task = FollowupTask.objects.get(client_id=client_id)
    assert task.seq == 0 and task.channel == "phone" and task.status == "open"
    assert task.due_date == enrolment.anchor_date
    assert task.assignee_role == "nurse"
    # Sealed: the task row has a ledger seal written by the system.
    assert RowSeal.objects.filter(table="followup_followuptask", row_id=str(task.id)).exists()
    assert LedgerEntry.objects.filter(client_id=str(client_id), action="followup.task.generate")


def test_a_second_run_writes_nothing(world, tagged):
    run(world)
    before = LedgerEntry.objects.count()
    again = run(world)
    assert (again.enrolled, again.tasks, again.ended) == (0, 0, 0)
    assert FollowupTask.objects.count() == 1
    assert LedgerEntry.objects.count() == before


def test_the_horizon_brings_the_next_monthly_contact_when_its_day_comes(world, tagged):
    run(world)
    later = timezone.now() + dt.timedelta(days=27)
    summary = run(world, now=later)
    assert summary.tasks == 1
    assert sorted(FollowupTask.objects.values_list("seq", flat=True)) == [0, 1]


def test_no_task_on_a_channel_without_consent(world, fu):
    client_id = world.enrol().client_id
    fu.tag_client(client_id)  # no phone consent recorded
    fu.plan()
    summary = run(world)
    assert summary.enrolled == 1 and summary.tasks == 0 and summary.skipped_no_consent == 1
    assert not FollowupTask.objects.exists()


def test_withdrawing_consent_cancels_open_tasks_on_that_channel(world, fu, tagged):
    client_id, _v = tagged
    run(world)
    consent = fu.world.manager  # noqa: F841 (the manager records the withdrawal)
    from careledger.consent.models import Consent

    row = Consent.objects.get(client_id=client_id, purpose="followup_phone")
    consent_services.do_withdraw(
        actor=world.manager, consent_id=row.id, method="paper", reference="撤回书"
    )
    summary = run(world)
    assert summary.cancelled_consent == 1
    task = FollowupTask.objects.get(client_id=client_id)
    assert (task.status, task.close_reason) == ("cancelled", "consent_withdrawn")


def test_removing_the_tag_ends_the_plan_and_cancels_its_tasks(world, fu, tagged):
    client_id, _v = tagged
    run(world)
    fu.untag_client(client_id)
    summary = run(world)
    assert summary.ended == 1
    enrolment = Enrolment.objects.get(client_id=client_id)
    assert (enrolment.status, enrolment.end_reason) == ("cancelled", "trigger_cleared")
    assert FollowupTask.objects.get(client_id=client_id).status == "cancelled"
    # The trigger still cleared: nothing new on the next run either.
    assert run(world).enrolled == 0


def test_overdue_tasks_escalate_to_the_team_lead(world, tagged):
    CareTeamMembership.objects.filter(user=world.manager, care_team=world.team_a).update(
        role="lead"
    )
    run(world)
    summary = run(world, now=timezone.now() + dt.timedelta(days=3))
    assert summary.escalated == 1
    task = FollowupTask.objects.get()
    assert task.escalated_to_id == world.manager.id and task.escalated_at is not None


def test_three_failed_attempts_mark_the_client_lost_to_follow_up(world, tagged):
    client_id, _v = tagged
    run(world)
    task = FollowupTask.objects.get()
    services.do_claim(actor=world.nurse, task_id=task.id)
    for outcome in ("no_answer", "busy"):
        services.do_record_outcome(
            actor=world.nurse, task_id=task.id, data=services.OutcomeInput(outcome=outcome)
        )
        task.refresh_from_db()
        assert task.status == "claimed" and task.scheduled_date > timezone.localdate()
    services.do_record_outcome(
        actor=world.nurse, task_id=task.id, data=services.OutcomeInput(outcome="no_answer")
    )
    task.refresh_from_db()
    enrolment = Enrolment.objects.get(client_id=client_id)
    assert (task.status, task.close_reason) == ("done", "lost")
    assert (enrolment.status, enrolment.failed_attempts) == ("lost", 3)
    assert FollowupRecord.objects.filter(task=task).count() == 3


def test_reached_closes_the_task_and_the_note_is_sealed(world, tagged):
    run(world)
    task = FollowupTask.objects.get()
    record = services.do_record_outcome(
        actor=world.nurse,
        task_id=task.id,
        data=services.OutcomeInput(outcome="reached", note="血压控制良好，130/80"),
    )
    task.refresh_from_db()
    assert task.status == "done"
    raw = FollowupRecord.objects.filter(pk=record.pk).values_list("note", flat=True).get()
    assert "130/80" not in raw.token
    assert FollowupRecord.objects.get(pk=record.pk).note == "血压控制良好，130/80"
    corrected = services.do_correct_record(
        actor=world.nurse, record_id=record.id, note="血压 132/82", questionnaire_response_id=None
    )
    assert corrected.version == 2
    assert not FollowupRecord.objects.get(pk=record.pk).is_current


def test_deceased_ends_every_plan_of_the_client(world, fu, tagged):
    client_id, _v = tagged
    fu.plan(code="welcome", trigger_kind="enrolment", trigger_params={"within_days": 30})
    run(world)
    assert Enrolment.objects.filter(client_id=client_id, status="active").count() == 2
    task = FollowupTask.objects.filter(client_id=client_id).first()
    services.do_record_outcome(
        actor=world.nurse, task_id=task.id, data=services.OutcomeInput(outcome="deceased")
    )
    assert not Enrolment.objects.filter(client_id=client_id, status="active").exists()
    assert not FollowupTask.objects.filter(client_id=client_id, status__in=["open", "claimed"])


def test_the_ledger_verifies_after_a_run_and_outcomes(world, tagged):
    from django.core.management import call_command

    run(world)
    task = FollowupTask.objects.get()
    services.do_record_outcome(
        actor=world.nurse, task_id=task.id, data=services.OutcomeInput(outcome="busy")
    )
    call_command("ledger", "verify")


def test_a_finished_schedule_completes_the_enrolment_and_the_ledger_verifies(world, fu):
    from django.core.management import call_command

    client_id = world.enrol().client_id
    fu.consent(client_id)
    fu.tag_client(client_id)
    fu.plan(repeat_frequency="none", repeat_count=0)
    run(world)
    task = FollowupTask.objects.get()
    services.do_record_outcome(
        actor=world.nurse, task_id=task.id, data=services.OutcomeInput(outcome="reached")
    )
    assert run(world).completed == 0  # the only contact is today: not past yet
    summary = run(world, now=timezone.now() + dt.timedelta(days=2))
    assert summary.completed == 1
    enrolment = Enrolment.objects.get(client_id=client_id)
    assert (enrolment.status, enrolment.end_reason) == ("completed", "schedule_done")
    call_command("ledger", "verify")
