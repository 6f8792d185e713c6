"""Running an approved export (the Celery task's body) and the approval seal it checks.

Why apart from `services`: this is the one place where client data is gathered and leaves, so
it reads as one story — open the approval's seal and compare it with the request as stored now
(same request, same scope hash, never used), mark it used in the same transaction, build the
frame, de-identify unless the approved purpose needs identifiers, write the watermarked file,
seal it under a fresh key, and ledger one event per client whose data is in it. A refusal or a
failure is recorded on the request and in the ledger; nothing is written to disk.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of
from careledger.accounts.models import User
from careledger.crypto import aead, keyring
from careledger.crypto.models import KeyScope
from careledger.exports import deid, population, sheets, vault
from careledger.exports.models import (
    ExportApproval,
    ExportRequest,
    Format,
    Kind,
    Purpose,
    Status,
)
from careledger.exports.scope import canonical_json, scope_hash
from careledger.ledger import services as ledger
from careledger.observations import catalogue

log = logging.getLogger(__name__)

LEDGER_BATCH = 5000
APPROVAL_TABLE = "exports_exportapproval"


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "CARELEDGER_EXPORT_TTL_HOURS", 72)))


def ledger_purpose(export: ExportRequest) -> str:
    return f"export:{export.purpose}"


def _approval_binding(approval_id: uuid.UUID) -> aead.Binding:
    return aead.Binding(APPROVAL_TABLE, "seal", str(approval_id))


def seal_approval(approval: ExportApproval, institution_id: uuid.UUID) -> str:
    payload = {
        "approval": str(approval.id),
        "request": str(approval.request_id),
        "scope_sha256": approval.scope_sha256,
    }
    key = keyring.current(KeyScope.INSTITUTION, institution_id)
    return aead.seal(key.material, key.id, canonical_json(payload), _approval_binding(approval.id))


def open_approval(approval: ExportApproval) -> dict[str, Any]:
    key = keyring.by_id(aead.key_id_of(approval.seal))
    return orjson.loads(aead.open_sealed(key, approval.seal, _approval_binding(approval.id)))


class RunRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _verify_approval(export: ExportRequest) -> ExportApproval:
    """The approval may run this request, as stored now, once. Raises RunRefused(reason)."""
    approval = ExportApproval.objects.select_for_update().filter(request=export).first()
    if approval is None:
        raise RunRefused("no_approval")
    if approval.used_at is not None:
        raise RunRefused("approval_already_used")
    try:
        sealed = open_approval(approval)
    except (aead.DecryptionError, keyring.KeyDestroyed, ValueError):
        raise RunRefused("approval_seal_invalid") from None
    if sealed.get("approval") != str(approval.id) or sealed.get("request") != str(export.id):
        raise RunRefused("approval_for_another_request")
    current = scope_hash(export.scope)
    if not (sealed.get("scope_sha256") == approval.scope_sha256 == export.scope_sha256 == current):
        raise RunRefused("scope_changed_after_approval")
    if approval.approver_id == export.requested_by_id:
        raise RunRefused("approver_is_requester")
    return approval


def _fail(export_id: uuid.UUID, status: str, reason: str, outcome: str) -> None:
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().get(pk=export_id)
        export.status = status
        export.failure_reason = reason
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "failure_reason", "finished_at", "updated_at"])
        ledger.record(
            actor=actor_of(export.requested_by),
            action="export.run",
            outcome=outcome,
            purpose=ledger_purpose(export),
            resource_type="ExportRequest",
            resource_id=str(export.id),
            detail={"reason": reason},
        )


def _start(export_id: uuid.UUID) -> ExportRequest | None:
    with transaction.atomic():
        export = (
            ExportRequest.objects.select_for_update(of=("self",))
            .select_related("requested_by", "project")
            .get(pk=export_id)
        )
        if export.status != Status.APPROVED:
            return None  # a duplicate delivery, or already refused: nothing to do
        approval = _verify_approval(export)
        now = timezone.now()
        approval.used_at = now
        approval.save(update_fields=["used_at"])
        export.status = Status.RUNNING
        export.started_at = now
        export.save(update_fields=["status", "started_at", "updated_at"])
    return export


@dataclass(frozen=True)
class Built:
    data: bytes
    client_ids: list[str]
    rows: int
    report: dict[str, Any]


def _headers(columns: list[str]) -> list[str]:
    fixed = {
        "client_id": "客户编号 client id",
        "pseudonym": "假名 pseudonym",
        "name": "姓名 name",
        "document_number": "证件号 document number",
        "phone": "手机号 phone",
        "address": "地址 address",
        "sex": "性别 sex",
        "birth_date": "出生日期 birth date",
        "age_band": "年龄段 age band",
        "region_code": "地区码 area code",
        "region": "地区 region (GB/T 2260 prefix)",
        "enrolled_on": "建档日期 enrolled",
        "tags": "标签 tags",
    }
    out = []
    for col in columns:
        if col in fixed:
            out.append(fixed[col])
            continue
        code, _sep, suffix = col.partition("@")
        ind = catalogue.find(code)
        name = f"{ind.name_zh} {code}" if ind else code
        if suffix:
            out.append(f"{name} 日期 date")
        else:
            unit = f" ({ind.unit_display})" if ind and ind.unit_display else ""
            out.append(f"{name}{unit}")
    return out


def build_export(export: ExportRequest, *, approver: User, issued_at: dt.datetime) -> Built:
    """The file's bytes for an approved request (no database writes)."""
    scope = export.scope
    frame = population.build_frame(export.institution_id, scope)
    client_ids = frame["client_id"].to_list()
    codes = list(scope.get("observation_codes", ()))
    values = [population.value_column(c) for c in codes]
    dates = ["enrolled_on", *[population.date_column(c) for c in codes]]
    keep = [*(["tags"] if "tags" in frame.columns else []), *values]
    report: dict[str, Any]
    if export.identified:
        out = frame.select(
            "client_id",
            *scope.get("identifier_fields", ()),
            "sex",
            "birth_date",
            "region_code",
            *keep,
            *dates,
        )
        report = {"identified": True, "rows_out": out.height}
    else:
        if export.kind == Kind.RESEARCH and export.project is not None:
            key = vault.project_key(export.project)
            shift = export.project.shift_days
        else:
            key = secrets.token_bytes(32)  # per export, discarded: unlinkable across exports
            shift = 180
        config = deid.DeidConfig(
            reference_date=timezone.localtime(issued_at).date(), k=scope["k"], shift_days=shift
        )
        out, rep = deid.anonymise(frame, key=key, config=config, date_columns=dates, keep=keep)
        report = {"identified": False, **rep.as_dict()}
    mark = sheets.Watermark(
        request_id=str(export.id),
        requester=f"{export.requested_by.display_name or export.requested_by.username} "
        f"({export.requested_by.username})",
        approver=f"{approver.display_name or approver.username} ({approver.username})",
        purpose=f"{Purpose(export.purpose).label} [{export.purpose}]",
        issued_at=timezone.localtime(issued_at),
        expires_at=timezone.localtime(issued_at + ttl()),
        institution=str(export.institution_id),
        note=(
            "含身份信息 identified"
            if export.identified
            else f"去标识化 de-identified, k={report['k_requested']} "
            f"achieved {report['k_achieved']}, suppressed {report['suppressed']}"
        ),
    )
    headers = _headers(out.columns)
    writer = sheets.to_xlsx if export.file_format == Format.XLSX else sheets.to_csv
    return Built(writer(out, mark, headers), client_ids, out.height, report)


def run_export(export_id: uuid.UUID) -> ExportRequest:
    try:
        export = _start(export_id)
    except RunRefused as refused:
        _fail(export_id, Status.REFUSED, refused.reason, ledger.Outcome.DENIED)
        log.warning("export refused", extra={"export": str(export_id), "reason": refused.reason})
        return ExportRequest.objects.get(pk=export_id)
    if export is None:
        return ExportRequest.objects.get(pk=export_id)
    approver = export.approval.approver
    issued = timezone.now()
    try:
        built = build_export(export, approver=approver, issued_at=issued)
        vault.seal_file(export, built.data)
    except Exception:
        log.exception("export failed", extra={"export": str(export_id)})
        vault.purge_file(export)
        _fail(export_id, Status.FAILED, "build_failed", ledger.Outcome.FAILED)
        return ExportRequest.objects.get(pk=export_id)
    with transaction.atomic():
        export.status = Status.READY
        export.finished_at = timezone.now()
        export.expires_at = issued + ttl()
        export.row_count = built.rows
        export.deid_report = built.report
        export.save(
            update_fields=[
                "status",
                "finished_at",
                "expires_at",
                "row_count",
                "deid_report",
                "file_sha256",
                "file_bytes",
                "file_kek_id",
                "file_key_wrapped",
                "updated_at",
            ]
        )
        actor = actor_of(export.requested_by)
        purpose = ledger_purpose(export)
        # One event per client whose data is in the file (their "who looked at my record"),
        # then the run itself with the counts and the file's digest.
        for start in range(0, len(built.client_ids), LEDGER_BATCH):
            ledger.record_many(
                actor=actor,
                action="export.client",
                client_ids=built.client_ids[start : start + LEDGER_BATCH],
                purpose=purpose,
                resource_type="ExportRequest",
                resource_ids=[str(export.id)] * len(built.client_ids[start : start + LEDGER_BATCH]),
            )
        ledger.record(
            actor=actor,
            action="export.run",
            purpose=purpose,
            resource_type="ExportRequest",
            resource_id=str(export.id),
            detail={
                "approval": str(export.approval.id),
                "clients": len(built.client_ids),
                "rows": built.rows,
                "identified": export.identified,
                "k_achieved": built.report.get("k_achieved"),
                "suppressed": built.report.get("suppressed"),
                "file_sha256": export.file_sha256,
            },
        )
    return export
