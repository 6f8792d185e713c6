"""Archiving inactive clients, reading them with a reason, anonymising, legal holds, and the
two-step erasure that crypto-shreds the client's key while the ledger keeps verifying."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careledger.access.enforce import AccessDenied
from careledger.clients import selectors as clients
from careledger.clients.models import Client, ClientRevision
from careledger.clients.validation import ValidationFailed
from careledger.consent import services as consent_services
from careledger.consent import text_services
from careledger.consent.models import Consent
from careledger.consent.selectors import has_consent
from careledger.crypto import aead, keyring
from careledger.crypto.fields import Sealed, open_value
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify
from careledger.retention import services, tasks
from careledger.retention.models import ErasureStatus, RetentionRun

pytestmark = pytest.mark.django_db


def give_research_consent(world, client_id):  # type: ignore[no-untyped-def]
    draft = text_services.do_create_draft(
        actor=world.admin, purpose="research", title="科研使用同意书", body="同意去标识化科研使用。"
    )
    text_services.do_publish(actor=world.admin, text_id=draft.id)
    return consent_services.do_record(
        actor=world.manager,
        client_id=client_id,
        text_id=draft.id,
        method="paper",
        reference="纸质同意书 R-01",
    )


LATER = timezone.now() + dt.timedelta(days=800)


def denial(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as refused:
        fn(*args, **kwargs)
    return refused.value.decision.reason


def test_inactive_clients_are_archived_and_then_read_only_with_a_reason(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    run = services.run_institution(world.inst, now=LATER)
    assert (run.examined, run.archived) == (1, 1)
    assert Client.objects.get(pk=member.client_id).status == "archived"

    assert denial(clients.get_client, world.manager, member.client_id) == "archived_needs_reason"
    assert LedgerEntry.objects.filter(
        action="client.view", outcome="denied", client_id=str(member.client_id)
    ).exists()
    with pytest.raises(ValidationFailed):
        services.do_grant_archive_access(actor=world.manager, client_id=member.client_id, reason="")
    services.do_grant_archive_access(
        actor=world.manager, client_id=member.client_id, reason="客户来电要求调阅 2024 年体检报告"
    )
    assert clients.get_client(world.manager, member.client_id).name == "张三明"
    # Reading only: archived means no other processing, and other staff still need a reason.
    assert denial(clients.get_client, world.doctor, member.client_id) == "archived_needs_reason"
    from careledger.clients.services import current_input, do_update_client

    data = current_input(Client.objects.get(pk=member.client_id))
    assert (
        denial(do_update_client, actor=world.manager, client_id=member.client_id, data=data)
        == "client_archived"
    )
    # Outsiders stay outsiders.
    assert (
        denial(
            services.do_grant_archive_access,
            actor=world.manager_b,
            client_id=member.client_id,
            reason="想看看",
        )
        == "not_in_care_team"
    )
    assert verify().ok


def test_a_legal_hold_stops_the_run_until_released(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    hold = services.do_place_hold(
        actor=world.admin, client_id=member.client_id, reason="医疗纠纷诉讼保全 (2026)民初 123 号"
    )
    run = services.run_institution(world.inst, now=LATER)
    assert (run.archived, run.held) == (0, 1)
    assert Client.objects.get(pk=member.client_id).status == "active"
    services.do_release_hold(actor=world.admin, hold_id=hold.id)
    assert services.run_institution(world.inst, now=LATER).archived == 1


def test_recent_activity_keeps_a_client_active(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    run = services.run_institution(world.inst, now=timezone.now() + dt.timedelta(days=100))
    assert run.archived == 0
    assert Client.objects.get(pk=member.client_id).status == "active"


def test_anonymising_policy_shreds_identifiers_and_keeps_verifying(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    services.do_set_policy(actor=world.admin, inactive_days=365, action="anonymise")
    run = services.run_institution(world.inst, now=LATER)
    assert run.anonymised == 1
    client = Client.objects.get(pk=member.client_id)
    assert client.status == "anonymised" and client.name == "" and client.birth_date.month == 1
    assert denial(clients.get_client, world.manager, member.client_id) == "client_erased"
    assert verify().ok


def test_policy_input_is_checked(world):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as bad:
        services.do_set_policy(actor=world.admin, inactive_days=3, action="shred")
    assert bad.value.errors == {"action": ["unknown_action"], "inactive_days": ["too_short"]}
    assert (
        denial(services.do_set_policy, actor=world.manager, inactive_days=400, action="archive")
        == "role_lacks_permission"
    )


def test_erasure_crypto_shreds_the_key_and_the_ledger_still_verifies(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    consent = give_research_consent(world, member.client_id)
    client = Client.objects.get(pk=member.client_id)
    old_name = client.__dict__["name"]
    revision = ClientRevision.objects.filter(client=client).first()
    assert isinstance(old_name, Sealed)
    key_id = aead.key_id_of(old_name.token)

    request = services.do_request_erasure(
        actor=world.manager, client_id=client.id, ground="client_request", note="本人书面申请"
    )
    assert (
        denial(services.do_decide_erasure, actor=world.manager, request_id=request.id, approve=True)
        == "role_lacks_permission"
    )
    done = services.do_decide_erasure(actor=world.admin, request_id=request.id, approve=True)
    assert done.status == ErasureStatus.EXECUTED and done.keys_destroyed >= 1

    keyring.clear_cache()
    with pytest.raises(keyring.KeyDestroyed):
        keyring.by_id(key_id)
    fresh = Client.objects.get(pk=client.id)
    with pytest.raises(keyring.KeyDestroyed):  # the old ciphertext, as a backup would hold it
        open_value(fresh, Client._meta.get_field("name"), old_name.token)
    if revision is not None:
        with pytest.raises(keyring.KeyDestroyed):
            _ = ClientRevision.objects.get(pk=revision.pk).snapshot
    assert fresh.status == "erased" and fresh.name == "" and fresh.phone == ""
    # Processing stops: the consents in force end with the data.
    assert not has_consent(client_id=client.id, purpose="research")
    assert Consent.objects.get(pk=consent.id).withdrawal_method == "erasure"
    assert denial(clients.get_client, world.manager, client.id) == "client_erased"

    report = verify()
    assert report.ok, report.problems
    from django.core.management import call_command

    call_command("ledger", "verify")  # the command too (exits non-zero on a problem)


def test_erasure_needs_a_second_person_and_respects_holds(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    # The requester (an admin is not in the care team, so a manager asks) cannot approve even
    # when they hold the approving role; here the admin places a hold and the auditor decides.
    request = services.do_request_erasure(
        actor=world.manager, client_id=member.client_id, ground="consent_withdrawn"
    )
    with pytest.raises(ValidationFailed):
        services.do_request_erasure(
            actor=world.manager, client_id=member.client_id, ground="client_request"
        )
    services.do_place_hold(actor=world.admin, client_id=member.client_id, reason="审计调查中")
    with pytest.raises(ValidationFailed) as held:
        services.do_decide_erasure(actor=world.auditor, request_id=request.id, approve=True)
    assert held.value.errors == {"client": ["legal_hold"]}
    rejected = services.do_decide_erasure(
        actor=world.auditor, request_id=request.id, approve=False, note="诉讼保全期间不得删除"
    )
    assert rejected.status == ErasureStatus.REJECTED
    assert Client.objects.get(pk=member.client_id).status == "active"
    # Outsiders cannot request, another institution cannot approve.
    assert denial(
        services.do_request_erasure, actor=world.outsider, client_id=member.client_id,
        ground="client_request",
    ) == "other_institution"  # fmt: skip
    with pytest.raises(ValidationFailed):
        services.do_request_erasure(actor=world.manager, client_id=member.client_id, ground="x")


def test_requester_holding_the_approving_role_cannot_approve(world):  # type: ignore[no-untyped-def]
    from careledger.institutions.models import CareTeamMembership
    from careledger.retention.models import ErasureRequest

    member = world.enrol()
    # An admin who is also in the care team (unusual, but possible) asks, then tries to approve.
    CareTeamMembership.objects.create(care_team=world.team_a, user=world.admin)
    request = ErasureRequest.objects.create(
        institution=world.inst,
        client_id=member.client_id,
        ground="client_request",
        requested_by=world.admin,
        requested_at=timezone.now(),
    )
    assert (
        denial(services.do_decide_erasure, actor=world.admin, request_id=request.id, approve=True)
        == "requester_cannot_approve"
    )


def test_the_nightly_task_runs_every_institution(world, settings):  # type: ignore[no-untyped-def]
    world.enrol()
    summary = tasks.apply_retention.apply().get()
    assert summary["institutions"] == 2 and summary["archived"] == 0
    assert RetentionRun.objects.count() == 2
    assert "retention-nightly-run" in settings.CELERY_BEAT_SCHEDULE
