"""Reads of export requests. A request holds purpose, scope, counts and the requester's sealed
justification, never a client's data, so these reads are institution-level: the requester sees
their own, the approvers (`export.approve`) see their institution's, nobody else any.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from careledger.access.enforce import refuse, require
from careledger.access.policy import deny
from careledger.access.roles import Action, permits
from careledger.accounts.models import User
from careledger.exports.models import ExportRequest, ResearchProject, Status


def may_use_exports(user: User) -> bool:
    return permits(user.role, Action.EXPORT_REQUEST) or permits(user.role, Action.EXPORT_APPROVE)


@dataclass(frozen=True)
class ExportLists:
    mine: list[ExportRequest]
    to_decide: list[ExportRequest]
    decided: list[ExportRequest]


def _base() -> QuerySet:
    return ExportRequest.objects.select_related("requested_by", "decided_by", "project")


def export_lists(actor: User, *, limit: int = 50) -> ExportLists:
    if not may_use_exports(actor):
        raise refuse(actor, Action.EXPORT_REQUEST, deny("role_lacks_permission"), purpose="export")
    mine: list[ExportRequest] = []
    to_decide: list[ExportRequest] = []
    decided: list[ExportRequest] = []
    if permits(actor.role, Action.EXPORT_REQUEST):
        require(actor, Action.EXPORT_REQUEST, purpose="export")
        mine = list(_base().filter(requested_by=actor)[:limit])
    if permits(actor.role, Action.EXPORT_APPROVE):
        require(actor, Action.EXPORT_APPROVE, purpose="oversight")
        inst = _base().filter(institution_id=actor.institution_id).exclude(requested_by=actor)
        to_decide = list(inst.filter(status=Status.PENDING).order_by("created_at")[:limit])
        decided = list(inst.exclude(status=Status.PENDING)[:limit])
    return ExportLists(mine, to_decide, decided)


def export_detail(actor: User, request_id: uuid.UUID) -> ExportRequest:
    """The request for its requester or an approver of its institution (refusals ledgered)."""
    if not may_use_exports(actor):
        raise refuse(actor, Action.EXPORT_REQUEST, deny("role_lacks_permission"), purpose="export")
    export = _base().filter(pk=request_id).first()
    if export is None:
        raise ExportRequest.DoesNotExist(str(request_id))
    if export.institution_id != actor.institution_id:
        raise refuse(actor, Action.EXPORT_REQUEST, deny("other_institution"), purpose="export")
    if export.requested_by_id == actor.id:
        return export
    if permits(actor.role, Action.EXPORT_APPROVE):
        require(actor, Action.EXPORT_APPROVE, purpose="oversight")
        return export
    raise refuse(actor, Action.EXPORT_REQUEST, deny("not_requester"), purpose="export")


def open_projects(actor: User) -> list[ResearchProject]:
    """Projects a research export may name (for the request form)."""
    if not (
        permits(actor.role, Action.RESEARCH_EXPORT)
        or permits(actor.role, Action.RESEARCH_PROJECT_MANAGE)
    ):
        return []
    return list(
        ResearchProject.objects.filter(institution_id=actor.institution_id, closed_at__isnull=True)
        .defer("key_wrapped")
        .order_by("code")
    )


def projects(actor: User) -> list[ResearchProject]:
    require(actor, Action.RESEARCH_PROJECT_MANAGE, purpose="configuration")
    return list(
        ResearchProject.objects.filter(institution_id=actor.institution_id)
        .defer("key_wrapped")
        .order_by("code")
    )
