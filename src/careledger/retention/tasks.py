"""The nightly retention run (Celery beat). Idempotent: a client already archived or
anonymised is not touched again, and each client's change is its own transaction, so a run cut
short is simply finished by the next one."""

from __future__ import annotations

from celery import shared_task

from careledger.request_context import RequestContext, bound, new_request_id


@shared_task(name="careledger.retention.apply_retention")
def apply_retention() -> dict[str, int]:
    from careledger.retention import services

    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        runs = services.run_everyone()
    return {
        "institutions": len(runs),
        "archived": sum(r.archived for r in runs),
        "anonymised": sum(r.anonymised for r in runs),
        "held": sum(r.held for r in runs),
    }
