"""Celery entry points of risk assessment (idempotent: an evaluation whose basis equals the
client's current one writes nothing, so a retried or duplicate run changes nothing)."""

from __future__ import annotations

import uuid

from celery import shared_task

from careledger.assessment import services
from careledger.clients.models import Client
from careledger.institutions.models import Institution
from careledger.request_context import RequestContext, bound, new_request_id


def reassess(client_ids: list[str]) -> int:
    """Assess these clients again (grouped by institution); the number of new assessments.
    Called inline by the tag re-evaluation, which reads risk levels, so that it sees them."""
    by_institution: dict[uuid.UUID, list[str]] = {}
    rows = Client.objects.filter(pk__in=[uuid.UUID(c) for c in client_ids]).values_list(
        "pk", "institution_id"
    )
    for pk, institution_id in rows:
        by_institution.setdefault(institution_id, []).append(str(pk))
    written = 0
    for institution_id, ids in by_institution.items():
        written += services.reassess_clients(institution_id=institution_id, client_ids=ids).written
    return written


@shared_task(acks_late=True, name="careledger.assessment.reassess_clients")
def reassess_clients(client_ids: list[str]) -> int:
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        return reassess(client_ids)


@shared_task(acks_late=True, name="careledger.assessment.assess_everyone")
def assess_everyone() -> int:
    """The nightly run: every institution, everyone (beat schedule in settings; before the
    nightly tag run, which reads the levels)."""
    written = 0
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        for institution_id in Institution.objects.values_list("pk", flat=True):
            written += services.assess_institution(institution_id=institution_id).written
    return written
