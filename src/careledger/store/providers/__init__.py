"""Payment providers behind settings: `get(name)` and `available()`.

`settings.CARELEDGER_PAYMENTS` (built from environment variables in `providers.config`) names
the enabled providers and their keys. The offline (pay-at-desk) provider is always there.
"""

from __future__ import annotations

from careledger.store.providers.base import (
    CallbackRejected,
    Notification,
    PaymentProvider,
    PaymentStart,
)
from careledger.store.providers.registry import available, get

__all__ = [
    "CallbackRejected",
    "Notification",
    "PaymentProvider",
    "PaymentStart",
    "available",
    "get",
]
