"""The provider adapters' signature work, with keys generated in the test: a callback signed
as WeChat Pay (RSA-SHA256 over timestamp/nonce/body, AES-256-GCM resource) or Alipay (RSA2
over the sorted parameters) is believed; any tampering is refused with a reason. No database."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qsl, urlencode, urlparse

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from careledger.store.providers.alipay import signing_string
from careledger.store.providers.base import CallbackRejected


def now() -> dt.datetime:
    """Read when used: a module-level "now" goes stale on a slow machine (five-minute window)."""
    return dt.datetime.now(dt.UTC)


def test_a_wechat_callback_signed_by_the_platform_is_decrypted_into_fen(wechat):
    headers, body = wechat.notification(order_number="CL1", total_fen=59900)
    note = wechat.provider().parse_notification(headers=headers, body=body, now=now())
    assert (note.order_number, note.amount_fen, note.succeeded) == ("CL1", 59900, True)
    assert note.transaction_id == "4200001234202612040000000001"
    assert isinstance(note.amount_fen, int)


def _rejected(provider, headers, body) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(CallbackRejected) as caught:
        provider.parse_notification(headers=headers, body=body, now=now())
    return caught.value.code


def test_a_tampered_wechat_body_fails_the_signature(wechat):
    headers, body = wechat.notification(order_number="CL1", total_fen=59900)
    tampered = body.replace(b'"summary": "', b'"summary": "x')
    assert _rejected(wechat.provider(), headers, tampered) == "bad_signature"


def test_wechat_refuses_other_keys_serials_stale_stamps_and_missing_headers(wechat):
    provider = wechat.provider()
    headers, body = wechat.notification(order_number="CL1", total_fen=1)
    assert _rejected(provider, {**headers, "Wechatpay-Serial": "OTHER"}, body) == (
        "unknown_platform_serial"
    )
    forged = {**headers, "Wechatpay-Signature": base64.b64encode(b"x" * 256).decode()}
    assert _rejected(provider, forged, body) == "bad_signature"
    old, old_body = wechat.notification(
        order_number="CL1", total_fen=1, at=now() - dt.timedelta(minutes=6)
    )
    assert _rejected(provider, old, old_body) == "stale_timestamp"
    del headers["Wechatpay-Nonce"]
    assert _rejected(provider, headers, body) == "missing_signature_headers"


def test_wechat_refuses_a_resource_sealed_with_another_key_or_for_another_merchant(wechat):
    import dataclasses

    other = dataclasses.replace(
        wechat, config=dataclasses.replace(wechat.config, apiv3_key=b"k" * 32)
    )
    headers, body = other.notification(order_number="CL1", total_fen=1)
    assert _rejected(wechat.provider(), headers, body) == "undecryptable_resource"
    headers, body = wechat.notification(order_number="CL1", total_fen=1, mchid="1999999999")
    assert _rejected(wechat.provider(), headers, body) == "not_our_merchant"


def test_wechat_start_sends_a_signed_request_and_checks_the_signed_answer(wechat):
    seen = {}
    merchant_public = serialization.load_pem_public_key(wechat.merchant_public_pem)

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers["Authorization"]
        fields = dict(part.split("=", 1) for part in auth.split(" ", 1)[1].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        message = (
            f"POST\n{request.url.raw_path.decode()}\n{fields['timestamp']}\n"
            f"{fields['nonce_str']}\n{request.content.decode()}\n"
        ).encode()
        merchant_public.verify(  # raises if our request was not signed with the merchant key
            base64.b64decode(fields["signature"]), message, padding.PKCS1v15(), hashes.SHA256()
        )
        seen["body"] = json.loads(request.content)
        answer = json.dumps({"code_url": "weixin://wxpay/bizpayurl?pr=abc"}).encode()
        stamp, nonce = str(int(now().timestamp())), "n1"
        signature = wechat.sign(stamp.encode() + b"\n" + nonce.encode() + b"\n" + answer + b"\n")
        return httpx.Response(
            200,
            content=answer,
            headers={
                "Wechatpay-Timestamp": stamp,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": signature,
            },
        )

    start = wechat.provider(httpx.MockTransport(handler)).start(
        order_number="CL9", amount_fen=12850, description="基础体检套餐"
    )
    assert start.kind == "qr" and start.url.startswith("weixin://")
    assert seen["body"]["amount"] == {"total": 12850, "currency": "CNY"}

    def unsigned(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code_url": "weixin://evil"})

    with pytest.raises(CallbackRejected, match="bad_response_signature"):
        wechat.provider(httpx.MockTransport(unsigned)).start(
            order_number="CL9", amount_fen=1, description="x"
        )


def test_an_alipay_notification_signed_rsa2_is_believed_and_its_yuan_parsed_exactly(alipay):
    body = alipay.notification(order_number="CL2", total="599.10")
    note = alipay.provider().parse_notification(headers={}, body=body, now=now())
    assert (note.order_number, note.amount_fen, note.succeeded) == ("CL2", 59910, True)


def test_alipay_refuses_tampered_amounts_other_apps_and_unsigned_posts(alipay):
    provider = alipay.provider()
    body = alipay.notification(order_number="CL2", total="599.00")
    params = dict(parse_qsl(body.decode()))
    assert _rejected(provider, {}, urlencode({**params, "total_amount": "0.01"}).encode()) == (
        "bad_signature"
    )
    assert _rejected(provider, {}, urlencode({**params, "sign_type": "RSA"}).encode()) == (
        "missing_signature"
    )
    other = alipay.notification(order_number="CL2", total="599.00", app_id="2099")
    assert _rejected(provider, {}, other) == "not_our_app"
    assert _rejected(provider, {}, b"%%%") == "malformed_body"


def test_alipay_start_is_a_gateway_url_signed_with_the_app_key(alipay):
    start = alipay.provider().start(order_number="CL3", amount_fen=59900, description="套餐")
    params = dict(parse_qsl(urlparse(start.url).query))
    assert json.loads(params["biz_content"])["total_amount"] == "599.00"
    app_public = serialization.load_pem_public_key(alipay.app_public_pem)
    app_public.verify(
        base64.b64decode(params["sign"]),
        signing_string(params),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
