"""Pay at the desk (到店支付): the default backend. No callback: a member of staff confirms that
the money was received, and that confirmation (authorised and ledgered) is the payment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from careledger.store.providers.base import CallbackRejected, Notification, PaymentStart


class OfflineProvider:
    name = "offline"
    has_callbacks = False

    def start(self, *, order_number: str, amount_fen: int, description: str) -> PaymentStart:
        return PaymentStart(provider=self.name, kind="desk", detail={"order": order_number})

    def parse_notification(
        self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> Notification:
        raise CallbackRejected("provider_has_no_callbacks")

    def acknowledge(self, ok: bool) -> tuple[int, str, bytes]:
        return (404, "text/plain", b"")
