"""Messages for the backend tests, as the gateway would hand them over."""

from __future__ import annotations

import datetime as dt

from careledger.notifications.backends import OutboundMessage

PHONE = "13912345678"


def outbound_message(**overrides) -> OutboundMessage:  # type: ignore[no-untyped-def]
    data = {
        "id": "m1",
        "channel": "sms",
        "to": PHONE,
        "template": "portal_login_code",
        "text": "【康链健康】您的客户门户登录验证码为042917",
        "params": {"code": "042917"},
        "client_id": "c1",
        "purpose": "portal_login",
        "created_at": dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC),
        "demo_params": {"code": "042917"},
    }
    data.update(overrides)
    return OutboundMessage(**data)
