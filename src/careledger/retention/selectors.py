"""Reads for the retention pages. The admin and the security officer see ids, grounds, dates
and counts — never a client's name or record (separation of duties); the care team's page
reads the client's own retention state. Each read is ledgered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action, permits
from careledger.accounts.models import User
from careledger.clients.models import ArchiveAccess, Client
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.retention import services
from careledger.retention.models import ErasureRequest, ErasureStatus, LegalHold, RetentionRun


@dataclass(frozen=True)
class Overview:
    inactive_days: int
    action: str
    holds: list[LegalHold]
    runs: list[RetentionRun]
    open_requests: list[ErasureRequest]
    decided: list[ErasureRequest]
    can_manage: bool
    can_approve: bool


def overview(actor: User) -> Overview:
    can_manage = permits(actor.role, Action.RETENTION_MANAGE)
    require(
        actor,
        Action.RETENTION_MANAGE if can_manage else Action.ERASURE_APPROVE,
        purpose=services.PURPOSE,
    )
    inst = actor.institution_id
    days, action = services.policy_for(inst)
    with transaction.atomic():
        holds = (
            list(
                LegalHold.objects.filter(
                    institution_id=inst, released_at__isnull=True
                ).select_related("placed_by")
            )
            if can_manage
            else []
        )
        runs = list(RetentionRun.objects.filter(institution_id=inst)[:10])
        requests = list(
            ErasureRequest.objects.filter(institution_id=inst).select_related(
                "requested_by", "decided_by"
            )[:100]
        )
        ledger.record(
            actor=actor_of(actor),
            action="retention.view",
            purpose=services.PURPOSE,
            resource_type="ErasureRequest",
            detail={"holds": len(holds), "requests": len(requests)},
        )
    return Overview(
        inactive_days=days,
        action=action,
        holds=holds,
        runs=runs,
        open_requests=[r for r in requests if r.status == ErasureStatus.REQUESTED],
        decided=[r for r in requests if r.status != ErasureStatus.REQUESTED],
        can_manage=can_manage,
        can_approve=permits(actor.role, Action.ERASURE_APPROVE),
    )


@dataclass(frozen=True)
class ClientRetention:
    client_id: uuid.UUID
    status: str
    on_hold: bool
    open_request: ErasureRequest | None
    my_access: ArchiveAccess | None


def client_retention(actor: User, client_id: uuid.UUID) -> ClientRetention:
    """The care team's view of one client's retention state (allowed on archived clients)."""
    client = Client.objects.get(pk=client_id)
    require(actor, Action.ARCHIVE_ACCESS, client_scope(client), purpose=services.PURPOSE)
    with transaction.atomic():
        held = services.on_hold(client.id)
        request = ErasureRequest.objects.filter(
            client=client, status=ErasureStatus.REQUESTED
        ).first()
        from django.utils import timezone

        access = ArchiveAccess.objects.filter(
            client=client, user=actor, expires_at__gt=timezone.now()
        ).first()
        ledger.record(
            actor=actor_of(actor),
            action="retention.client.view",
            purpose=services.PURPOSE,
            client_id=str(client.id),
            resource_type="Client",
            resource_id=str(client.id),
            detail={"status": client.status},
        )
    return ClientRetention(client.id, client.status, held, request, access)
