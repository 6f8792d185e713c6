"""Who is acting, and in which request, for the ledger and the logs.

Set by the web middleware (and by the CLI and tasks for their own work) in a context variable,
so that services can stamp audit events without every call passing the request down.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    channel: str  # "web", "api", "cli", "task"
    ip: str = ""
    actor_id: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "careledger_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def bound(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def set_actor(actor_id: str) -> None:
    ctx = _current.get()
    if ctx is not None:
        _current.set(replace(ctx, actor_id=actor_id))
