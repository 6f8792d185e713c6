"""Which providers are enabled, built from settings (`CARELEDGER_PAYMENTS`) or the environment.

Keys are read from files named by environment variables (never put in the environment
themselves), so a merchant private key can live in a 0600 file or a mounted secret:

| variable | meaning |
|---|---|
| `CARELEDGER_PAYMENT_PROVIDERS` | comma list among `offline,wechat,alipay` (default `offline`) |
| `WECHATPAY_MCHID`, `WECHATPAY_APPID` | merchant and app id |
| `WECHATPAY_APIV3_KEY_FILE` | file holding the 32-byte APIv3 key |
| `WECHATPAY_PLATFORM_PUBLIC_KEY_FILE`, `..._SERIAL` | platform key (PEM), serial |
| `WECHATPAY_MERCHANT_PRIVATE_KEY_FILE`, `..._SERIAL` | merchant key (PEM), cert serial |
| `WECHATPAY_NOTIFY_URL` | public URL of `/api/payments/wechat/notify` |
| `ALIPAY_APP_ID`, `ALIPAY_PUBLIC_KEY_FILE`, `ALIPAY_APP_PRIVATE_KEY_FILE` | app id and keys (PEM) |
| `ALIPAY_NOTIFY_URL`, `ALIPAY_GATEWAY` | public URL of `/api/payments/alipay/notify`; gateway |
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

from careledger.store.providers.alipay import AlipayConfig, AlipayProvider
from careledger.store.providers.base import PaymentProvider
from careledger.store.providers.offline import OfflineProvider
from careledger.store.providers.wechat import WeChatPayConfig, WeChatPayProvider


def _read(var: str) -> bytes:
    path = os.environ.get(var, "")
    return Path(path).read_bytes().strip() if path else b""


def from_environment() -> dict[str, Any]:
    names = [
        n.strip()
        for n in os.environ.get("CARELEDGER_PAYMENT_PROVIDERS", "offline").split(",")
        if n.strip()
    ]
    config: dict[str, Any] = {"offline": {}}
    if "wechat" in names:
        config["wechat"] = WeChatPayConfig(
            mchid=os.environ.get("WECHATPAY_MCHID", ""),
            appid=os.environ.get("WECHATPAY_APPID", ""),
            apiv3_key=_read("WECHATPAY_APIV3_KEY_FILE"),
            platform_public_key_pem=_read("WECHATPAY_PLATFORM_PUBLIC_KEY_FILE"),
            platform_serial=os.environ.get("WECHATPAY_PLATFORM_SERIAL", ""),
            merchant_private_key_pem=_read("WECHATPAY_MERCHANT_PRIVATE_KEY_FILE"),
            merchant_serial=os.environ.get("WECHATPAY_MERCHANT_SERIAL", ""),
            notify_url=os.environ.get("WECHATPAY_NOTIFY_URL", ""),
        )
    if "alipay" in names:
        config["alipay"] = AlipayConfig(
            app_id=os.environ.get("ALIPAY_APP_ID", ""),
            alipay_public_key_pem=_read("ALIPAY_PUBLIC_KEY_FILE"),
            app_private_key_pem=_read("ALIPAY_APP_PRIVATE_KEY_FILE"),
            notify_url=os.environ.get("ALIPAY_NOTIFY_URL", ""),
            gateway=os.environ.get("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
        )
    return config


def _config() -> dict[str, Any]:
    configured = getattr(settings, "CARELEDGER_PAYMENTS", None)
    return dict(configured) if configured is not None else from_environment()


def available() -> list[str]:
    names = list(_config())
    return ["offline", *[n for n in names if n != "offline"]]


def get(name: str) -> PaymentProvider:
    config = _config()
    if name == "offline":
        return OfflineProvider()
    if name not in config:
        raise LookupError(name)
    value = config[name]
    if name == "wechat":
        if isinstance(value, WeChatPayProvider):
            return value
        return WeChatPayProvider(value)
    if name == "alipay":
        if isinstance(value, AlipayProvider):
            return value
        return AlipayProvider(value)
    raise LookupError(name)
