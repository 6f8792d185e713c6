"""Scheduled signing of tree heads (Celery beat, every CARELEDGER_LEDGER_SIGN_SECONDS).

Idempotent by construction: `do_sign_head` returns the latest head when nothing was appended
since, so a duplicate or retried run, or a quiet night, adds nothing.
"""

from __future__ import annotations

from celery import shared_task

from careledger.ledger.heads import HeadError, do_sign_head
from careledger.request_context import RequestContext, bound, new_request_id


@shared_task(acks_late=True, name="careledger.ledger.sign_tree_head")
def sign_tree_head() -> int:
    """Sign the current tree; returns the signed size (0 for an empty ledger)."""
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        try:
            return do_sign_head().size
        except HeadError:
            return 0
