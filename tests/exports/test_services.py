"""Bulk export end to end through the services: request, the second person, the run, the sealed
watermarked file, downloads, expiry; and every way it must refuse (each refusal ledgered)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from django.utils import timezone

from careledger.access.enforce import AccessDenied
from careledger.accounts.models import User
from careledger.clients.validation import ValidationFailed
from careledger.exports import services, vault
from careledger.exports.models import ExportApproval, ExportRequest, Status
from careledger.ledger.models import LedgerEntry
from exports.conftest import FPG, SBP, qi_scope

pytestmark = pytest.mark.django_db
WHY = "季度血压控制率质量改进分析"


def denied(user, reason: str) -> bool:  # type: ignore[no-untyped-def]
    rows = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied")
    return any(json.loads(r.leaf)["detail"].get("reason") == reason for r in rows)


def events(export, action: str = "", outcome: str = ""):  # type: ignore[no-untyped-def]
    """Ledger entries about the export (the resource id is in the leaf)."""
    rows = LedgerEntry.objects.filter(leaf__contains=str(export.id))
    if action:
        rows = rows.filter(action=action)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows


def approved_and_run(world, export, approver=None):  # type: ignore[no-untyped-def]
    services.do_approve_export(actor=approver or world.admin, request_id=export.id, mfa_fresh=True)
    return services.run_export(export.id)


def download(user, export):  # type: ignore[no-untyped-def]
    return services.do_download_export(actor=user, request_id=export.id, mfa_fresh=True)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_a_deidentified_export_runs_after_a_second_person_approves(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    assert export.status == Status.PENDING and export.client_count == 12  # team A only
    assert export.scope["care_team_ids"] == [str(world.team_a.id)]  # bound to own teams
    assert not export.identified
    done = approved_and_run(world, export)
    assert done.status == Status.READY and done.row_count <= 12
    assert done.deid_report["k_achieved"] >= 2 and done.deid_report["k_requested"] == 2
    assert vault.sealed_path(done).exists()
    raw = vault.sealed_path(done).read_bytes()
    assert "欧阳".encode() not in raw and b"quality_improvement" not in raw  # sealed on disk
    file = download(world.doctor, done)
    rows = rows_of(file.data)
    assert str(export.id) in rows[0][0] and "admin" in rows[0][0] and "doctor" in rows[0][0]
    assert rows[1][:4] == ["假名 pseudonym", "性别 sex", "年龄段 age band", rows[1][3]]
    assert any("收缩压" in h for h in rows[1])
    body = file.data.decode("utf-8-sig")
    assert not [s for s in cohort.secrets if s in body]
    assert "hypertension" in body  # the tag column
    actions = set(events(export).values_list("action", flat=True))
    assert {"export.request", "export.approve", "export.client", "export.run"} <= actions
    assert "export.download" in actions
    clients = set(events(export, "export.client").values_list("client_id", flat=True))
    assert clients == {str(c.id) for c in cohort.team_a}


def test_the_approval_enqueues_the_job_which_runs_once(
    world, cohort, eager, django_capture_on_commit_callbacks
):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.do_approve_export(actor=world.auditor, request_id=export.id, mfa_fresh=True)
    assert len(callbacks) == 1
    export.refresh_from_db()
    assert export.status == Status.READY
    assert services.run_export(export.id).status == Status.READY  # a duplicate does nothing
    assert events(export, "export.run").count() == 1


def test_identifiers_leave_only_for_a_purpose_that_needs_them_and_only_own_teams(world, cohort):
    export = services.do_request_export(
        actor=world.manager,
        data={
            "purpose": "continuity_of_care",
            "identifier_fields": ["name", "phone"],
            "format": "xlsx",
            "observation_codes": [SBP],
        },
        justification="转诊至合作医院心内科，需交接患者信息",
    )
    assert export.identified
    done = approved_and_run(world, export)
    book = openpyxl.load_workbook(io.BytesIO(download(world.manager, done).data))
    sheet = list(book["数据 Data"].iter_rows(values_only=True))
    names = {row[1] for row in sheet[2:]}
    assert names == {c.name for c in cohort.team_a}
    assert not names & {c.name for c in cohort.team_b}
    assert book.properties.keywords == str(export.id)
    assert done.deid_report == {"identified": True, "rows_out": 12}


def test_requester_cannot_approve_their_own_request(world, cohort):
    export = services.do_request_export(actor=world.analyst, data=qi_scope(), justification=WHY)
    outsider_admin = User.objects.create_user(
        username="analyst_admin", password="x-Very-long-9", role="institution_admin",
        institution=world.inst, display_name="x",
    )  # fmt: skip
    with pytest.raises(AccessDenied):
        services.do_approve_export(actor=world.analyst, request_id=export.id, mfa_fresh=True)
    assert denied(world.analyst, "role_lacks_permission")
    # An approver's own request is refused to them as approver, too.
    own = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    own.requested_by = outsider_admin
    own.save(update_fields=["requested_by"])
    with pytest.raises(AccessDenied):
        services.do_approve_export(actor=outsider_admin, request_id=own.id, mfa_fresh=True)
    assert denied(outsider_admin, "own_request")
    assert ExportRequest.objects.get(pk=own.id).status == Status.PENDING


def test_an_approver_of_another_institution_is_refused(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    with pytest.raises(AccessDenied):
        services.do_approve_export(actor=cohort.other_admin, request_id=export.id, mfa_fresh=True)
    assert denied(cohort.other_admin, "other_institution")
    with pytest.raises(AccessDenied):
        services.do_reject_export(actor=cohort.other_admin, request_id=export.id, note="不同意导出")
    assert not ExportApproval.objects.exists()


@pytest.mark.parametrize("who", ["nurse", "manager", "doctor", "analyst"])
def test_roles_without_export_approve_cannot_approve(world, cohort, who):
    export = services.do_request_export(actor=world.manager_b, data=qi_scope(), justification=WHY)
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.do_approve_export(actor=user, request_id=export.id, mfa_fresh=True)
    assert denied(user, "role_lacks_permission")


@pytest.mark.parametrize("who", ["nurse", "admin", "auditor"])
def test_roles_without_export_request_cannot_request(world, cohort, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.do_request_export(actor=user, data=qi_scope(), justification=WHY)
    assert denied(user, "role_lacks_permission")


def test_a_clinician_cannot_reach_beyond_their_care_teams(world, cohort):
    with pytest.raises(AccessDenied):
        services.do_request_export(
            actor=world.manager,
            data=qi_scope(care_team_ids=[str(world.team_b.id)]),
            justification=WHY,
        )
    assert denied(world.manager, "not_in_care_team")
    with pytest.raises(AccessDenied):
        services.do_request_export(
            actor=world.analyst,
            data=qi_scope(care_team_ids=[str(world.other_team.id)]),
            justification=WHY,
        )
    assert denied(world.analyst, "care_team_of_other_institution")


def test_the_analyst_never_gets_identifiers(world, cohort):
    with pytest.raises(AccessDenied):
        services.do_request_export(
            actor=world.analyst,
            data={"purpose": "regulatory_report", "identifier_fields": ["document_number"]},
            justification="上报监管部门需要身份证号",
        )
    assert denied(world.analyst, "role_lacks_permission")
    export = services.do_request_export(actor=world.analyst, data=qi_scope(), justification=WHY)
    assert export.client_count == 14  # institution-wide: nothing identifying leaves
    done = approved_and_run(world, export)
    body = download(world.analyst, done).data.decode("utf-8-sig")
    assert not [s for s in cohort.secrets if s in body]


def test_bad_input_gets_a_specific_error(world, cohort):
    with pytest.raises(ValidationFailed) as caught:
        services.do_request_export(
            actor=world.doctor,
            data={"purpose": "quality_improvement", "observation_codes": ["0000-0"], "k": 99},
            justification="短",
        )
    assert {"observation_codes", "k"} <= set(caught.value.errors)
    with pytest.raises(ValidationFailed) as caught:
        services.do_request_export(actor=world.doctor, data=qi_scope(), justification="短")
    assert "justification" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        services.do_request_export(
            actor=world.doctor,
            data={"purpose": "quality_improvement", "identifier_fields": ["name"]},
            justification=WHY,
        )
    assert "identifier_fields" in caught.value.errors


def test_a_scope_changed_after_approval_is_refused_at_run(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)
    scope = dict(export.scope, observation_codes=[SBP, FPG, "2093-3"])
    ExportRequest.objects.filter(pk=export.id).update(scope=scope)  # behind the app's back
    done = services.run_export(export.id)
    assert done.status == Status.REFUSED and done.failure_reason == "scope_changed_after_approval"
    assert not vault.sealed_path(done).exists()
    assert events(export, "export.run", "denied").exists()
    with pytest.raises(ValidationFailed):
        download(world.doctor, done)


def test_changing_the_scope_and_its_hash_together_still_fails_the_sealed_approval(world, cohort):
    from careledger.exports.scope import scope_hash

    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    approval = services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)
    scope = dict(export.scope, k=2, identified=True, identifier_fields=["name"])
    ExportRequest.objects.filter(pk=export.id).update(scope=scope, scope_sha256=scope_hash(scope))
    ExportApproval.objects.filter(pk=approval.id).update(scope_sha256=scope_hash(scope))
    done = services.run_export(export.id)
    assert done.status == Status.REFUSED and done.failure_reason == "scope_changed_after_approval"


def test_an_approval_cannot_be_replayed_or_moved_to_another_request(world, cohort):
    first = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    done = approved_and_run(world, first)
    assert done.status == Status.READY
    # Replaying: put the request back to "approved" and deliver the job again.
    ExportRequest.objects.filter(pk=first.id).update(status=Status.APPROVED)
    again = services.run_export(first.id)
    assert again.status == Status.REFUSED and again.failure_reason == "approval_already_used"
    # Moving: the approval of one request attached to another with the same scope.
    second = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    third = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    approval = services.do_approve_export(actor=world.admin, request_id=second.id, mfa_fresh=True)
    ExportApproval.objects.filter(pk=approval.id).update(request=third)
    ExportRequest.objects.filter(pk=third.id).update(status=Status.APPROVED)
    moved = services.run_export(third.id)
    assert moved.status == Status.REFUSED and moved.failure_reason == "approval_for_another_request"
    # And a request approved by no one does not run.
    ExportRequest.objects.filter(pk=second.id).update(status=Status.APPROVED)
    assert services.run_export(second.id).failure_reason == "no_approval"


def test_a_decided_request_cannot_be_decided_again_and_rejection_needs_a_reason(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    with pytest.raises(ValidationFailed):
        services.do_reject_export(actor=world.auditor, request_id=export.id, note="")
    services.do_reject_export(actor=world.auditor, request_id=export.id, note="用途与范围不符")
    with pytest.raises(ValidationFailed):
        services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)
    assert ExportRequest.objects.get(pk=export.id).status == Status.REJECTED
    assert services.run_export(export.id).status == Status.REJECTED


def test_only_the_requester_downloads_with_a_fresh_code_a_limited_number_of_times(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    done = approved_and_run(world, export)
    for other, reason in (
        (world.admin, "role_lacks_permission"),
        (world.auditor, "role_lacks_permission"),
        (world.manager, "not_requester"),
        (world.analyst, "not_requester"),
    ):
        with pytest.raises(AccessDenied):
            download(other, done)
        assert denied(other, reason)
    with pytest.raises(AccessDenied):
        services.do_download_export(actor=world.doctor, request_id=export.id, mfa_fresh=False)
    assert denied(world.doctor, "step_up_required")
    with pytest.raises(AccessDenied):
        download(cohort.other_admin, done)
    for _ in range(done.max_downloads):
        download(world.doctor, done)
    with pytest.raises(AccessDenied):
        download(world.doctor, done)
    assert denied(world.doctor, "download_limit_reached")
    assert events(export, "export.download", "allowed").count() == done.max_downloads


def test_an_expired_file_is_refused_then_purged_with_its_key(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    done = approved_and_run(world, export)
    ExportRequest.objects.filter(pk=export.id).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with pytest.raises(AccessDenied):
        download(world.doctor, done)
    assert denied(world.doctor, "expired")
    sealed = vault.sealed_path(done)
    assert sealed.exists()
    assert services.purge_expired() == 1
    gone = ExportRequest.objects.get(pk=export.id)
    assert gone.status == Status.EXPIRED and bytes(gone.file_key_wrapped) == b""
    assert not sealed.exists()
    with pytest.raises(vault.FileGone):
        vault.open_file(gone)
    assert services.purge_expired() == 0  # idempotent


def test_withdrawal_is_the_requesters_and_only_while_pending(world, cohort):
    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    with pytest.raises(AccessDenied):
        services.do_withdraw_export(actor=world.manager, request_id=export.id)
    services.do_withdraw_export(actor=world.doctor, request_id=export.id)
    with pytest.raises(ValidationFailed):
        services.do_withdraw_export(actor=world.doctor, request_id=export.id)
    with pytest.raises(ValidationFailed):
        services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)


def test_a_run_that_fails_leaves_no_file_and_says_so(world, cohort, monkeypatch):
    from careledger.exports import population

    export = services.do_request_export(actor=world.doctor, data=qi_scope(), justification=WHY)
    services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(population, "build_frame", broken)
    done = services.run_export(export.id)
    assert done.status == Status.FAILED and done.failure_reason == "build_failed"
    assert not vault.sealed_path(done).exists()
    assert events(export, "export.run", "failed").exists()
    assert services.run_export(export.id).status == Status.FAILED  # not retried into a run
