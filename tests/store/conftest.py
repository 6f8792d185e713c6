"""Shared data for the store tests: B1's catalogue (a published package with add-ons and
capacity, built through the booking services), card entitlements set by the admin, and
provider keys generated in the test (RSA-2048, a random APIv3 key) so callbacks are signed
exactly as WeChat Pay and Alipay sign them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from booking.conftest import make_catalogue, next_open_day
from careledger.store.providers.alipay import AlipayConfig, AlipayProvider, signing_string
from careledger.store.providers.wechat import WeChatPayConfig, WeChatPayProvider


def _rsa() -> tuple[rsa.RSAPrivateKey, bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, private, public


@dataclass
class WeChatPay:
    """Plays WeChat Pay: holds the platform private key and signs notifications with it."""

    platform_key: rsa.RSAPrivateKey
    config: WeChatPayConfig
    merchant_private_pem: bytes
    merchant_public_pem: bytes

    def provider(self, transport=None) -> WeChatPayProvider:  # type: ignore[no-untyped-def]
        return WeChatPayProvider(self.config, transport=transport)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(
            self.platform_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        ).decode()

    def notification(
        self,
        *,
        order_number: str,
        total_fen: int,
        transaction_id: str = "4200001234202612040000000001",
        trade_state: str = "SUCCESS",
        mchid: str | None = None,
        at: dt.datetime | None = None,
    ) -> tuple[dict[str, str], bytes]:
        txn = {
            "mchid": mchid or self.config.mchid,
            "appid": self.config.appid,
            "out_trade_no": order_number,
            "transaction_id": transaction_id,
            "trade_type": "NATIVE",
            "trade_state": trade_state,
            "success_time": "2026-12-04T20:00:00+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": total_fen, "payer_total": total_fen, "currency": "CNY"},
        }
        nonce = secrets.token_hex(6)
        ciphertext = AESGCM(self.config.apiv3_key).encrypt(
            nonce.encode(), json.dumps(txn).encode(), b"transaction"
        )
        body = json.dumps(
            {
                "id": secrets.token_hex(8),
                "create_time": "2026-12-04T20:00:01+08:00",
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            }
        ).encode()
        stamp = str(int((at or dt.datetime.now(dt.UTC)).timestamp()))
        header_nonce = secrets.token_hex(16)
        signature = self.sign(stamp.encode() + b"\n" + header_nonce.encode() + b"\n" + body + b"\n")
        headers = {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": header_nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": self.config.platform_serial,
        }
        return headers, body


@pytest.fixture(scope="session")
def wechat() -> WeChatPay:
    platform, _platform_private, platform_public = _rsa()
    _merchant, merchant_private, merchant_public = _rsa()
    config = WeChatPayConfig(
        mchid="1900000109",
        appid="wxd678efh567hg6787",
        apiv3_key=secrets.token_hex(16).encode(),  # 32 ASCII bytes, as WeChat issues them
        platform_public_key_pem=platform_public,
        platform_serial="5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        merchant_private_key_pem=merchant_private,
        merchant_serial="444F4864EA9B34415...",
        notify_url="https://centre.example/api/payments/wechat/notify",
    )
    return WeChatPay(platform, config, merchant_private, merchant_public)


@dataclass
class Alipay:
    alipay_key: rsa.RSAPrivateKey
    config: AlipayConfig
    app_public_pem: bytes

    def provider(self) -> AlipayProvider:
        return AlipayProvider(self.config)

    def notification(
        self,
        *,
        order_number: str,
        total: str,
        trade_no: str = "2026120422001400000000000001",
        status: str = "TRADE_SUCCESS",
        app_id: str | None = None,
    ) -> bytes:
        params = {
            "notify_time": "2026-12-04 20:00:05",
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "app_id": app_id or self.config.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade_no,
            "out_trade_no": order_number,
            "total_amount": total,
            "trade_status": status,
            "gmt_payment": "2026-12-04 20:00:03",
            "subject": "基础体检套餐",
            "sign_type": "RSA2",
        }
        sig = self.alipay_key.sign(signing_string(params), padding.PKCS1v15(), hashes.SHA256())
        params["sign"] = base64.b64encode(sig).decode()
        return urlencode(params).encode()


@pytest.fixture(scope="session")
def alipay() -> Alipay:
    alipay_key, _alipay_private, alipay_public = _rsa()
    _app, app_private, app_public = _rsa()
    config = AlipayConfig(
        app_id="2021000000000001",
        alipay_public_key_pem=alipay_public,
        app_private_key_pem=app_private,
        notify_url="https://centre.example/api/payments/alipay/notify",
    )
    return Alipay(alipay_key, config, app_public)


@pytest.fixture
def payments(settings, wechat, alipay):  # type: ignore[no-untyped-def]
    """All three providers enabled, with the test's keys."""
    settings.CARELEDGER_PAYMENTS = {"offline": {}, "wechat": wechat.config, "alipay": alipay.config}
    return settings.CARELEDGER_PAYMENTS


@pytest.fixture
def catalogue(world):  # type: ignore[no-untyped-def]
    return make_catalogue(world)


@pytest.fixture
def buyer(world):  # type: ignore[no-untyped-def]
    """A 45-year-old woman with a gold card, in team A."""
    from careledger.clients.models import Client

    enrolled = world.enrol(sex="F", birth_date=dt.date(1981, 5, 20), membership_level="gold")
    return Client.objects.get(pk=enrolled.client_id)


@pytest.fixture
def gold_entitlements(world):  # type: ignore[no-untyped-def]
    from careledger.membership import services as membership

    return membership.do_set_level_table(
        actor=world.admin,
        data={"gold": {"annual_checkup": 1, "consultation": 4, "follow_up": 12}},
    )


__all__ = ["make_catalogue", "next_open_day", "place"]


def place(world, buyer, catalogue, **kw):  # type: ignore[no-untyped-def]
    from careledger.store import services

    day = kw.pop("day", next_open_day(catalogue.branch))
    return services.do_place_order(
        actor=kw.pop("actor", world.manager),
        client_id=buyer.id,
        version_id=catalogue.version.id,
        branch_id=catalogue.branch.id,
        day=day,
        **kw,
    )
