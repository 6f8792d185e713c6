"""The click-to-call gateway (点击拨号): how a call agent dials a client without seeing the number.

The adapter contract — what a telephony/CTI backend (a call-centre platform, a SIP PBX, a cloud
voice API) implements:

    class CallBackend(Protocol):
        name: str
        def dial(self, call: CallOrder) -> CallAnswer: ...

* `CallOrder` carries the request id (ties the provider's records to our ledger), the agent's
  user id and extension reference, the client's internal id and **the number, in the clear,
  only here**: `services.do_request_call` decrypts the client's phone server-side and hands it to
  `dial`, and nothing returned to the browser or written to a log or the ledger contains it.
  A backend must not log the number either (a provider's own call-detail records are theirs).
* `CallAnswer` is the backend's word: `status` ("queued", "ringing" or "failed") and the
  provider's reference for the call (used to attach a recording later, issue 6 part 4).
* A backend raises `CallFailed(code)` for a refusal it can name; the service records a failed
  request and tells the agent.

The default backend, `record` (CARELEDGER_CALL_BACKEND), places no call: it records that the
request was made (the `CallRequest` row and the ledger event, by the service) and logs the
request id and the client id — a centre without a CTI integration dials by hand from its own
system, and a test or demo sees exactly what a real backend would be given.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

import structlog
from django.conf import settings

log = structlog.get_logger("careledger.followup.telephony")


@dataclass(frozen=True)
class CallOrder:
    request_id: str
    agent_id: str
    client_id: str
    number: str  # decrypted by the service for this call only; never logged, never returned

    def __repr__(self) -> str:  # tracebacks and debuggers must not show the number
        return f"CallOrder(request_id={self.request_id!r}, client_id={self.client_id!r})"


@dataclass(frozen=True)
class CallAnswer:
    status: str
    provider_ref: str


class CallFailed(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CallBackend(Protocol):
    name: str

    def dial(self, call: CallOrder) -> CallAnswer: ...


class RecordOnlyBackend:
    """Places no call; the request itself is the record (see the module docstring)."""

    name = "record"

    def dial(self, call: CallOrder) -> CallAnswer:
        if not call.number:
            raise CallFailed("no_number")
        ref = "rec-" + secrets.token_hex(8)
        log.info("call_requested", call=call.request_id, client=call.client_id, ref=ref)
        return CallAnswer(status="queued", provider_ref=ref)


BACKENDS: dict[str, type] = {"record": RecordOnlyBackend}


def backend() -> CallBackend:
    name = settings.CARELEDGER_CALL_BACKEND
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(f"CARELEDGER_CALL_BACKEND must be one of {sorted(BACKENDS)}") from None
