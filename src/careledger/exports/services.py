"""Bulk export with two-person approval, and the research export (批量导出 · 科研导出).

The life of an export, each step authorised by the one policy and ledgered:

1. `do_request_export` — `export.request` (and `research.export` for a research project,
   `export.identified` when identifiers are asked). The scope is made canonical and hashed;
   a clinical requester is bound to their own care teams (left empty, it means exactly those);
   an analyst may ask across the institution because nothing identifying can leave for them.
2. `do_approve_export` / `do_reject_export` — `export.approve`, a user of the same
   institution who is not the requester, after a fresh MFA code (the view asks for it). The
   approval seals (request id, scope hash, approval id) under the institution key; the job is
   enqueued after commit.
3. `run_export` (the Celery task) — opens the seal and checks it against the request as stored
   now: same request, same scope hash, approval not used before. Marks it used in the same
   transaction, so a second delivery, a copied approval or a changed scope is refused and
   ledgered. Builds the frame, de-identifies it unless the approved purpose needs identifiers
   (research: the project's key, k-anonymity, consented clients only), writes the watermarked
   CSV/XLSX, seals it under a fresh key, and ledgers one event per client whose data left.
4. `do_download_export` — `export.download`, the requester only, with a fresh MFA code, at
   most `max_downloads` times, before `expires_at`; each download is ledgered with the file's
   digest. `purge_expired` deletes files and keys after expiry (hourly, by Celery beat).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import AccessDenied, actor_of, refuse, require
from careledger.access.policy import deny
from careledger.access.roles import Action, permits
from careledger.accounts.models import User
from careledger.clients.validation import ValidationFailed
from careledger.exports import population, vault
from careledger.exports.models import (
    ExportApproval,
    ExportRequest,
    Format,
    Kind,
    ResearchProject,
    Status,
)
from careledger.exports.running import RunRefused as RunRefused  # re-exported: the contract
from careledger.exports.running import build_export as build_export
from careledger.exports.running import ledger_purpose, seal_approval
from careledger.exports.running import run_export as run_export
from careledger.exports.scope import ScopeError, canonical, scope_hash
from careledger.institutions.models import CareTeam, CareTeamMembership
from careledger.ledger import services as ledger
from careledger.observations import catalogue

JUSTIFICATION_MIN = 10
JUSTIFICATION_MAX = 2000


def _deny(actor: User, action: Action, reason: str, *, purpose: str = "export") -> AccessDenied:
    return refuse(actor, action, deny(reason), purpose=purpose)


# --- 1. request -------------------------------------------------------------------------------


def _own_team_ids(actor: User) -> set[str]:
    return {
        str(t)
        for t in CareTeamMembership.objects.filter(
            user=actor, care_team__is_active=True
        ).values_list("care_team_id", flat=True)
    }


def check_request(*, actor: User, scope: dict[str, Any]) -> ResearchProject | None:
    """Authorise a request for this canonical scope; fills a clinician's teams in place."""
    require(actor, Action.EXPORT_REQUEST, purpose="export")
    project = None
    if scope["kind"] == Kind.RESEARCH:
        require(actor, Action.RESEARCH_EXPORT, purpose="research")
        project = ResearchProject.objects.filter(
            pk=scope["project_id"], institution_id=actor.institution_id, closed_at__isnull=True
        ).first()
        if project is None:
            raise ValidationFailed(
                {"project_id": [_("Choose an open project of your institution.")]}
            )
        if scope["k"] < project.k:
            raise ValidationFailed(
                {"k": [_("The project requires k of at least %(k)d.") % {"k": project.k}]}
            )
    if scope["identified"]:
        require(actor, Action.EXPORT_IDENTIFIED, purpose="export")
    teams = set(scope["care_team_ids"])
    if teams:
        found = CareTeam.objects.filter(id__in=teams, institution_id=actor.institution_id).count()
        if found != len(teams):
            raise _deny(actor, Action.EXPORT_REQUEST, "care_team_of_other_institution")
    if permits(actor.role, Action.EXPORT_IDENTIFIED):
        # Someone who may see people is bound to the people they already see.
        own = _own_team_ids(actor)
        if not own:
            raise _deny(actor, Action.EXPORT_REQUEST, "no_care_team")
        if teams - own:
            raise _deny(actor, Action.EXPORT_REQUEST, "not_in_care_team")
        scope["care_team_ids"] = sorted(teams or own)
    return project


def _known_codes() -> set[str]:
    return {ind.code for ind in catalogue.all_indicators()}


def do_request_export(*, actor: User, data: Mapping[str, Any], justification: str) -> ExportRequest:
    try:
        scope = canonical(data, known_codes=_known_codes())
    except ScopeError as exc:
        raise ValidationFailed(exc.errors) from None
    justification = (justification or "").strip()
    if not JUSTIFICATION_MIN <= len(justification) <= JUSTIFICATION_MAX:
        raise ValidationFailed(
            {
                "justification": [
                    _("Say why in %(lo)d to %(hi)d characters: the approver reads it.")
                    % {"lo": JUSTIFICATION_MIN, "hi": JUSTIFICATION_MAX}
                ]
            }
        )
    project = check_request(actor=actor, scope=scope)
    digest = scope_hash(scope)
    with transaction.atomic():
        export = ExportRequest(
            institution_id=actor.institution_id,
            kind=scope["kind"],
            project=project,
            requested_by=actor,
            purpose=scope["purpose"],
            scope=scope,
            scope_sha256=digest,
            identified=scope["identified"],
            file_format=scope["format"],
            client_count=population.count_in_scope(actor.institution_id, scope),
        )
        export.justification = justification
        export.save(force_insert=True)
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.EXPORT_REQUEST),
            purpose=ledger_purpose(export),
            resource_type="ExportRequest",
            resource_id=str(export.id),
            detail={
                "kind": export.kind,
                "clients": export.client_count,
                "identified": export.identified,
                "scope_sha256": digest,
            },
        )
    return export


def do_withdraw_export(*, actor: User, request_id: uuid.UUID) -> ExportRequest:
    export = _get(actor, request_id, Action.EXPORT_REQUEST)
    if export.requested_by_id != actor.id:
        raise _deny(actor, Action.EXPORT_REQUEST, "not_requester")
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().get(pk=export.pk)
        if export.status != Status.PENDING:
            raise ValidationFailed(
                {"status": [_("Only a request awaiting approval can be withdrawn.")]}
            )
        export.status = Status.WITHDRAWN
        export.save(update_fields=["status", "updated_at"])
        ledger.record(
            actor=actor_of(actor),
            action="export.withdraw",
            purpose=ledger_purpose(export),
            resource_type="ExportRequest",
            resource_id=str(export.id),
        )
    return export


def _get(actor: User, request_id: uuid.UUID, action: Action) -> ExportRequest:
    """The request if it is of the actor's institution; a refusal (ledgered) otherwise."""
    require(actor, action, purpose="export")
    export = ExportRequest.objects.select_related("project").filter(pk=request_id).first()
    if export is None:
        raise ExportRequest.DoesNotExist(str(request_id))
    if export.institution_id != actor.institution_id:
        raise _deny(actor, action, "other_institution")
    return export


# --- 2. the second person ---------------------------------------------------------------------


def check_decide(*, actor: User, export: ExportRequest) -> None:
    """A user of the same institution with `export.approve`, never the requester."""
    require(actor, Action.EXPORT_APPROVE, purpose="oversight")
    reason = ""
    if export.institution_id != actor.institution_id:
        reason = "other_institution"
    elif export.requested_by_id == actor.id:
        reason = "own_request"
    if reason:
        raise _deny(actor, Action.EXPORT_APPROVE, reason, purpose="oversight")


def _load_pending(actor: User, request_id: uuid.UUID) -> ExportRequest:
    require(actor, Action.EXPORT_APPROVE, purpose="oversight")
    export = ExportRequest.objects.filter(pk=request_id).first()
    if export is None:
        raise ExportRequest.DoesNotExist(str(request_id))
    check_decide(actor=actor, export=export)
    return export


def do_approve_export(
    *, actor: User, request_id: uuid.UUID, mfa_fresh: bool, note: str = ""
) -> ExportApproval:
    """Approve (the caller says whether the session passed MFA within the step-up window)."""
    _load_pending(actor, request_id)
    if not mfa_fresh:
        raise _deny(actor, Action.EXPORT_APPROVE, "step_up_required", purpose="oversight")
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().get(pk=request_id)
        if export.status != Status.PENDING:
            raise ValidationFailed({"status": [_("This request has already been decided.")]})
        if scope_hash(export.scope) != export.scope_sha256:
            raise ValidationFailed(
                {"scope": [_("The scope no longer matches what was requested.")]}
            )
        now = timezone.now()
        approval = ExportApproval(
            id=uuid.uuid4(),
            request=export,
            approver=actor,
            scope_sha256=export.scope_sha256,
            approved_at=now,
        )
        approval.seal = seal_approval(approval, export.institution_id)
        approval.save(force_insert=True)
        export.status = Status.APPROVED
        export.decided_by = actor
        export.decided_at = now
        export.decision_note = note.strip()[:JUSTIFICATION_MAX]
        export.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
        )
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.EXPORT_APPROVE),
            purpose="oversight",
            resource_type="ExportRequest",
            resource_id=str(export.id),
            detail={"approval": str(approval.id), "scope_sha256": approval.scope_sha256},
        )
        export_id = str(export.id)
        from careledger.exports.tasks import run_export_task

        transaction.on_commit(lambda: run_export_task.delay(export_id))
    return approval


def do_reject_export(*, actor: User, request_id: uuid.UUID, note: str) -> ExportRequest:
    note = (note or "").strip()
    if len(note) < 4:
        raise ValidationFailed({"note": [_("Say why the export is rejected.")]})
    _load_pending(actor, request_id)
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().get(pk=request_id)
        if export.status != Status.PENDING:
            raise ValidationFailed({"status": [_("This request has already been decided.")]})
        export.status = Status.REJECTED
        export.decided_by = actor
        export.decided_at = timezone.now()
        export.decision_note = note[:JUSTIFICATION_MAX]
        export.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"]
        )
        ledger.record(
            actor=actor_of(actor),
            action="export.reject",
            purpose="oversight",
            resource_type="ExportRequest",
            resource_id=str(export.id),
        )
    return export


# --- 4. download and expiry -------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    data: bytes


CONTENT_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def check_download(*, actor: User, export: ExportRequest, mfa_fresh: bool) -> None:
    if export.requested_by_id != actor.id:
        raise _deny(actor, Action.EXPORT_DOWNLOAD, "not_requester")
    if not mfa_fresh:
        raise _deny(actor, Action.EXPORT_DOWNLOAD, "step_up_required")
    if export.status == Status.EXPIRED or (
        export.expires_at is not None and export.expires_at <= timezone.now()
    ):
        raise _deny(actor, Action.EXPORT_DOWNLOAD, "expired")
    if export.status != Status.READY:
        raise ValidationFailed({"status": [_("The file is not ready.")]})
    if export.downloads >= export.max_downloads:
        raise _deny(actor, Action.EXPORT_DOWNLOAD, "download_limit_reached")


def do_download_export(*, actor: User, request_id: uuid.UUID, mfa_fresh: bool) -> Download:
    export = _get(actor, request_id, Action.EXPORT_DOWNLOAD)
    check_download(actor=actor, export=export, mfa_fresh=mfa_fresh)
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().get(pk=request_id)
        check_download(actor=actor, export=export, mfa_fresh=mfa_fresh)
        data = vault.open_file(export)
        export.downloads += 1
        export.save(update_fields=["downloads", "updated_at"])
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.EXPORT_DOWNLOAD),
            purpose=ledger_purpose(export),
            resource_type="ExportRequest",
            resource_id=str(export.id),
            detail={"n": export.downloads, "file_sha256": export.file_sha256},
        )
    ext = export.file_format
    name = f"careledger-export-{export.id}.{ext}"
    return Download(name, CONTENT_TYPES[Format(ext)], data)


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete the files and keys of exports past their expiry (idempotent)."""
    now = now or timezone.now()
    done = 0
    ids = list(
        ExportRequest.objects.filter(status=Status.READY, expires_at__lte=now).values_list(
            "id", flat=True
        )
    )
    for export_id in ids:
        with transaction.atomic():
            export = ExportRequest.objects.select_for_update().get(pk=export_id)
            if export.status != Status.READY:
                continue
            vault.purge_file(export)
            export.status = Status.EXPIRED
            export.purged_at = now
            export.save(
                update_fields=[
                    "status",
                    "purged_at",
                    "file_kek_id",
                    "file_key_wrapped",
                    "updated_at",
                ]
            )
            ledger.record(
                actor=ledger.SYSTEM,
                action="export.purge",
                purpose="retention",
                resource_type="ExportRequest",
                resource_id=str(export.id),
            )
        done += 1
    return done


# --- research projects ------------------------------------------------------------------------


def do_create_project(*, actor: User, code: str, title: str, k: int = 5) -> ResearchProject:
    require(actor, Action.RESEARCH_PROJECT_MANAGE, purpose="configuration")
    errors: dict[str, list[str]] = {}
    code = (code or "").strip().lower()
    title = (title or "").strip()
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", code):
        errors["code"] = [_("2 to 40 lower-case letters, digits or hyphens.")]
    elif ResearchProject.objects.filter(institution_id=actor.institution_id, code=code).exists():
        errors["code"] = [_("A project with this code exists.")]
    if not 2 <= len(title) <= 200:
        errors["title"] = [_("Give the project a title.")]
    if not 2 <= int(k) <= 50:
        errors["k"] = [_("k is a whole number from 2 to 50.")]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        project = ResearchProject(
            institution_id=actor.institution_id, code=code, title=title, k=int(k), created_by=actor
        )
        vault.new_project_key(project)
        project.save(force_insert=True)
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.RESEARCH_PROJECT_MANAGE),
            purpose="configuration",
            resource_type="ResearchProject",
            resource_id=str(project.id),
            detail={"code": code, "k": project.k},
        )
    return project
