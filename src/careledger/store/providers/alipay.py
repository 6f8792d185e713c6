"""Alipay (支付宝) adapter: a signed page-pay redirect and the asynchronous notification.

The contract (opendocs.alipay.com, "异步通知验签", RSA2):

* The notification is an `application/x-www-form-urlencoded` POST. Take every parameter except
  `sign` and `sign_type`, drop empty values, sort by name, join as ``k=v`` with ``&`` (values
  URL-decoded), and verify `sign` (base64) over those UTF-8 bytes with RSA-SHA256 (PKCS#1 v1.5)
  and the Alipay public key. `sign_type` must be RSA2; `app_id` must be ours.
* `trade_status` TRADE_SUCCESS or TRADE_FINISHED means paid; `total_amount` is in yuan with two
  decimals ("128.50") and is parsed exactly into fen (never through a float); `trade_no` is the
  Alipay transaction id (our idempotency key), `out_trade_no` our order number.
* Reply the plain text ``success`` when accepted; anything else and Alipay retries.

Starting a payment (`alipay.trade.wap.pay`) needs no server call: the request parameters are
signed with the application's private key the same way and the payer is redirected to the
gateway with them. All cryptography is `cryptography`'s; no vendor SDK.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from careledger.store.money import BadAmount, format_yuan, parse_yuan
from careledger.store.providers.base import CallbackRejected, Notification, PaymentStart

PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    alipay_public_key_pem: bytes
    app_private_key_pem: bytes = b""
    notify_url: str = ""
    return_url: str = ""
    gateway: str = "https://openapi.alipay.com/gateway.do"


def signing_string(params: Mapping[str, str]) -> bytes:
    items = sorted((k, v) for k, v in params.items() if k not in {"sign", "sign_type"} and v)
    return "&".join(f"{k}={v}" for k, v in items).encode("utf-8")


def rsa2_sign(private_key_pem: bytes, params: Mapping[str, str]) -> str:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the Alipay application key must be RSA")
    signature = key.sign(signing_string(params), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


class AlipayProvider:
    name = "alipay"
    has_callbacks = True

    def __init__(self, config: AlipayConfig) -> None:
        self.config = config
        key = serialization.load_pem_public_key(config.alipay_public_key_pem)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the Alipay public key must be RSA")
        self._alipay_key = key

    def parse_notification(
        self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> Notification:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise CallbackRejected("malformed_body") from exc
        params = dict(pairs)
        if len(params) != len(pairs):
            raise CallbackRejected("repeated_parameter")
        if params.get("sign_type") != "RSA2" or not params.get("sign"):
            raise CallbackRejected("missing_signature")
        try:
            self._alipay_key.verify(
                base64.b64decode(params["sign"], validate=True),
                signing_string(params),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError) as exc:
            raise CallbackRejected("bad_signature") from exc
        if params.get("app_id") != self.config.app_id:
            raise CallbackRejected("not_our_app")
        try:
            amount = parse_yuan(params.get("total_amount", ""))
        except BadAmount as exc:
            raise CallbackRejected("malformed_amount") from exc
        if not params.get("trade_no") or not params.get("out_trade_no"):
            raise CallbackRejected("malformed_transaction")
        paid_at = None
        if params.get("gmt_payment"):
            try:
                paid_at = dt.datetime.strptime(params["gmt_payment"], "%Y-%m-%d %H:%M:%S")
                paid_at = paid_at.replace(tzinfo=CHINA)
            except ValueError as exc:
                raise CallbackRejected("malformed_transaction") from exc
        return Notification(
            provider=self.name,
            order_number=params["out_trade_no"],
            transaction_id=params["trade_no"],
            amount_fen=amount,
            succeeded=params.get("trade_status") in PAID_STATUSES,
            paid_at=paid_at,
        )

    def acknowledge(self, ok: bool) -> tuple[int, str, bytes]:
        return (200, "text/plain", b"success" if ok else b"failure")

    def start(self, *, order_number: str, amount_fen: int, description: str) -> PaymentStart:
        biz = {
            "out_trade_no": order_number,
            "total_amount": format_yuan(amount_fen),
            "subject": description[:256],
            "product_code": "QUICK_WAP_WAY",
        }
        params = {
            "app_id": self.config.app_id,
            "method": "alipay.trade.wap.pay",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "notify_url": self.config.notify_url,
            "return_url": self.config.return_url,
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        params = {k: v for k, v in params.items() if v}
        params["sign"] = rsa2_sign(self.config.app_private_key_pem, params)
        return PaymentStart(
            provider=self.name, kind="redirect", url=f"{self.config.gateway}?{urlencode(params)}"
        )
