"""Celery entry points of the tagging app (idempotent: `evaluation.reevaluate` writes only what
differs from the tags clients carry, so a retried or duplicate run changes nothing)."""

from __future__ import annotations

import uuid

from celery import shared_task

from careledger.assessment.services import reassess_clients
from careledger.clients.models import Client
from careledger.institutions.models import Institution
from careledger.request_context import RequestContext, bound, new_request_id
from careledger.tagging.evaluation import reevaluate


@shared_task(acks_late=True, name="careledger.tagging.reevaluate_clients")
def reevaluate_clients(client_ids: list[str], trigger: str = "data_change") -> int:
    """Re-evaluate these clients (grouped by institution); returns the number of changes."""
    by_institution: dict[uuid.UUID, list[str]] = {}
    rows = Client.objects.filter(pk__in=[uuid.UUID(c) for c in client_ids]).values_list(
        "pk", "institution_id"
    )
    for pk, institution_id in rows:
        by_institution.setdefault(institution_id, []).append(str(pk))
    changes = 0
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        for institution_id, ids in by_institution.items():
            # Risk levels first: rules read them, and the same change (a result, a record
            # entry, a questionnaire) may have moved them.
            reassess_clients(institution_id=institution_id, client_ids=ids)
            outcome = reevaluate(institution_id=institution_id, client_ids=ids, trigger=trigger)
            changes += outcome.applied + outcome.removed
    return changes


@shared_task(acks_late=True, name="careledger.tagging.reevaluate_institution")
def reevaluate_institution(institution_id: str, trigger: str = "nightly") -> int:
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        outcome = reevaluate(institution_id=uuid.UUID(institution_id), trigger=trigger)
    return outcome.applied + outcome.removed


@shared_task(acks_late=True, name="careledger.tagging.reevaluate_everyone")
def reevaluate_everyone() -> int:
    """The nightly run: every institution, everyone (beat schedule in settings)."""
    changes = 0
    for institution_id in Institution.objects.values_list("pk", flat=True):
        changes += reevaluate_institution(str(institution_id), "nightly")
    return changes
