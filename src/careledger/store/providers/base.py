"""The payment provider contract (支付渠道接口).

Why an interface: the store must take money at the desk on day one and through WeChat Pay or
Alipay where a centre has a merchant account, without the order flow knowing which. A provider
is a small object with three duties, all of them free of Django and of the database:

* `start(order_number=…, amount_fen=…, description=…)` → `PaymentStart`: what the payer is shown
  (pay at the desk; a QR code URL; a signed redirect URL). It never marks anything paid.
* `parse_notification(headers=…, body=…, now=…)` → `Notification`: verify a callback exactly as
  the provider documents it (signature, freshness, our own merchant/app id, decryption) and return
  what it says, in integer fen. Anything wrong raises `CallbackRejected(code)` — a tampered,
  stale, foreign or malformed callback never reaches the order.
* `acknowledge(ok)` → `(status, content_type, body)`: the reply the provider expects, so that an
  accepted callback stops being retried and a refused one is retried or investigated.

Refunds of online payments are recorded by the store as `pending` (to be sent through the
provider's refund API); sending them is not part of this contract yet.

Idempotency is not the provider's job: the store keys each payment by (provider, provider
transaction id) under a unique constraint and a row lock, so a callback delivered twice changes
nothing the second time. The offline provider has no callbacks: staff confirm receipt, and the
confirmation's own id is its transaction id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class CallbackRejected(Exception):
    """A callback that must not be believed; `code` is ledgered (never the body)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PaymentStart:
    provider: str
    kind: str  # "desk" | "qr" | "redirect"
    url: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    provider: str
    order_number: str  # our out_trade_no
    transaction_id: str  # the provider's own id: the idempotency key
    amount_fen: int
    succeeded: bool
    paid_at: dt.datetime | None = None


class PaymentProvider(Protocol):
    name: str
    has_callbacks: bool

    def start(self, *, order_number: str, amount_fen: int, description: str) -> PaymentStart: ...

    def parse_notification(
        self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> Notification: ...

    def acknowledge(self, ok: bool) -> tuple[int, str, bytes]: ...


def header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup (Django's request.headers is; a plain dict is not)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""
