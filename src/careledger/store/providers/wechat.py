"""WeChat Pay APIv3 (微信支付) adapter: Native payments (a QR code) and their callbacks.

What the callback contract is (pay.weixin.qq.com, APIv3 "支付通知" and "签名验证"):

* Headers `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Signature` (base64) and
  `Wechatpay-Serial` (which platform key signed). The signed message is
  ``timestamp + "\\n" + nonce + "\\n" + body + "\\n"``, signed with RSA-SHA256 (PKCS#1 v1.5) by
  the WeChat Pay platform key. We verify it with the platform public key from settings, refuse a
  serial we do not hold, and refuse a timestamp more than five minutes from our clock (replay).
* The body's `resource` is AEAD_AES_256_GCM-encrypted with the merchant's APIv3 key (32 bytes),
  the resource's `nonce` and `associated_data`. Decrypted, it is the transaction: `mchid`,
  `appid`, `out_trade_no`, `transaction_id`, `trade_state`, `amount.total` (fen, an integer).
  The mchid and appid must be ours.
* Reply 200 (empty body) when accepted; a 4xx with `{"code":"FAIL","message":…}` otherwise, and
  WeChat Pay retries.

Starting a payment (`/v3/pay/transactions/native`) is a signed HTTPS request made with the
merchant's private key (`Authorization: WECHATPAY2-SHA256-RSA2048 …`); `start()` sends it with
httpx through an injectable transport and returns the `code_url` to show as a QR code.
All cryptography is `cryptography`'s; no vendor SDK.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from careledger.store.money import BadAmount, check_fen
from careledger.store.providers.base import CallbackRejected, Notification, PaymentStart, header

MAX_SKEW = dt.timedelta(minutes=5)
NATIVE_PATH = "/v3/pay/transactions/native"


@dataclass(frozen=True)
class WeChatPayConfig:
    mchid: str
    appid: str
    apiv3_key: bytes  # 32 bytes
    platform_public_key_pem: bytes
    platform_serial: str
    merchant_private_key_pem: bytes = b""
    merchant_serial: str = ""
    notify_url: str = ""
    base_url: str = "https://api.mch.weixin.qq.com"


def _rsa_public(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("WeChat Pay platform key must be RSA")
    return key


def sign_message(private_key_pem: bytes, message: bytes) -> str:
    """RSA-SHA256 (PKCS#1 v1.5), base64: how both sides sign in APIv3."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("WeChat Pay merchant key must be RSA")
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


class WeChatPayProvider:
    name = "wechat"
    has_callbacks = True

    def __init__(self, config: WeChatPayConfig, transport: httpx.BaseTransport | None = None):
        if len(config.apiv3_key) != 32:
            raise ValueError("the APIv3 key is 32 bytes")
        self.config = config
        self._platform_key = _rsa_public(config.platform_public_key_pem)
        self._transport = transport

    # -- callbacks -----------------------------------------------------------------------
    def parse_notification(
        self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> Notification:
        timestamp = header(headers, "Wechatpay-Timestamp")
        nonce = header(headers, "Wechatpay-Nonce")
        signature = header(headers, "Wechatpay-Signature")
        serial = header(headers, "Wechatpay-Serial")
        if not (timestamp and nonce and signature and serial):
            raise CallbackRejected("missing_signature_headers")
        if serial != self.config.platform_serial:
            raise CallbackRejected("unknown_platform_serial")
        try:
            sent_at = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise CallbackRejected("bad_timestamp") from exc
        if abs(now - sent_at) > MAX_SKEW:
            raise CallbackRejected("stale_timestamp")
        message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        try:
            self._platform_key.verify(
                base64.b64decode(signature, validate=True),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError) as exc:
            raise CallbackRejected("bad_signature") from exc
        return self._transaction(body)

    def _transaction(self, body: bytes) -> Notification:
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise CallbackRejected("unsupported_algorithm")
            plaintext = AESGCM(self.config.apiv3_key).decrypt(
                resource["nonce"].encode(),
                base64.b64decode(resource["ciphertext"], validate=True),
                (resource.get("associated_data") or "").encode(),
            )
            txn = json.loads(plaintext)
        except CallbackRejected:
            raise
        except InvalidTag as exc:
            raise CallbackRejected("undecryptable_resource") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CallbackRejected("malformed_body") from exc
        if txn.get("mchid") != self.config.mchid or txn.get("appid") != self.config.appid:
            raise CallbackRejected("not_our_merchant")
        try:
            amount = check_fen(txn["amount"]["total"])
            order_number = str(txn["out_trade_no"])
            transaction_id = str(txn["transaction_id"])
        except (KeyError, TypeError, BadAmount) as exc:
            raise CallbackRejected("malformed_transaction") from exc
        paid_at = None
        if txn.get("success_time"):
            try:
                paid_at = dt.datetime.fromisoformat(txn["success_time"])
            except ValueError as exc:
                raise CallbackRejected("malformed_transaction") from exc
        return Notification(
            provider=self.name,
            order_number=order_number,
            transaction_id=transaction_id,
            amount_fen=amount,
            succeeded=txn.get("trade_state") == "SUCCESS",
            paid_at=paid_at,
        )

    def acknowledge(self, ok: bool) -> tuple[int, str, bytes]:
        if ok:
            return (200, "application/json", b"")
        body = json.dumps({"code": "FAIL", "message": "refused"}).encode()
        return (400, "application/json", body)

    # -- starting a payment --------------------------------------------------------------
    def authorization(self, method: str, path: str, body: str, *, timestamp: int, nonce: str):
        message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n".encode()
        signature = sign_message(self.config.merchant_private_key_pem, message)
        return (
            f'WECHATPAY2-SHA256-RSA2048 mchid="{self.config.mchid}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{timestamp}",'
            f'serial_no="{self.config.merchant_serial}"'
        )

    def start(self, *, order_number: str, amount_fen: int, description: str) -> PaymentStart:
        payload: dict[str, Any] = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": description[:127],
            "out_trade_no": order_number,
            "notify_url": self.config.notify_url,
            "amount": {"total": check_fen(amount_fen, allow_zero=False), "currency": "CNY"},
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        timestamp = int(dt.datetime.now(dt.UTC).timestamp())
        nonce = secrets.token_hex(16)
        auth = self.authorization("POST", NATIVE_PATH, body, timestamp=timestamp, nonce=nonce)
        with httpx.Client(
            base_url=self.config.base_url, transport=self._transport, timeout=10
        ) as http:
            response = http.post(
                NATIVE_PATH,
                content=body.encode(),
                headers={
                    "Authorization": auth,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
        self._verify_response(response)
        code_url = response.json().get("code_url", "")
        if response.status_code != 200 or not code_url:
            raise CallbackRejected("payment_not_started")
        return PaymentStart(provider=self.name, kind="qr", url=code_url)

    def _verify_response(self, response: httpx.Response) -> None:
        """Responses are signed like callbacks; an unsigned or wrongly signed one is not used."""
        h = response.headers
        message = (
            h.get("Wechatpay-Timestamp", "").encode()
            + b"\n"
            + h.get("Wechatpay-Nonce", "").encode()
            + b"\n"
            + response.content
            + b"\n"
        )
        try:
            self._platform_key.verify(
                base64.b64decode(h.get("Wechatpay-Signature", ""), validate=True),
                message,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError) as exc:
            raise CallbackRejected("bad_response_signature") from exc
