"""Celery entry points of follow-up (idempotent: a run that finds nothing new writes nothing,
so a retried, duplicated or overlapping beat run does no harm — enrolments are unique per
(client, plan, anchor), tasks per (enrolment, occurrence), and each batch locks its rows)."""

from __future__ import annotations

from celery import shared_task

from careledger.followup import generation
from careledger.institutions.models import Institution
from careledger.request_context import RequestContext, bound, new_request_id


@shared_task(acks_late=True, name="careledger.followup.generate_institution")
def generate_institution(institution_id: str) -> int:
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        return generation.generate_institution(institution_id=institution_id).tasks


@shared_task(acks_late=True, name="careledger.followup.generate_everywhere")
def generate_everywhere() -> int:
    """The hourly beat run: every institution (see settings CELERY_BEAT_SCHEDULE)."""
    made = 0
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        for institution_id in Institution.objects.values_list("pk", flat=True):
            made += generation.generate_institution(institution_id=institution_id).tasks
    return made
