"""Store latencies through the real services: placing an order (which books the visit through
booking's capacity locks), confirming a desk payment, and applying a signed WeChat Pay callback
(RSA-SHA256 verification, AES-256-GCM decryption, the order's row lock, the ledger) — then the
same callback delivered again (the idempotent path).

Builds a throwaway database (SQLite, and PostgreSQL when one answers on 127.0.0.1:5432 or
BENCH_POSTGRES_URL is set), enrols N clients, publishes one package with capacity for all of
them, generates an RSA-2048 platform key and an APIv3 key, and prints p50/p95 per step.

    .venv/bin/python benchmarks/store.py [--orders 200] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import throwaway_env

ROOT = Path(__file__).resolve().parent.parent


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_one(orders: int) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "careledger.settings"
    django.setup()
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from stdnum.cn import ric

    from careledger.accounts.models import User
    from careledger.booking import package_services as ps
    from careledger.booking.calendar import day_status
    from careledger.clients.services import do_enrol_clients
    from careledger.clients.validation import ClientInput
    from careledger.institutions.models import CareTeam, CareTeamMembership, Department, Institution
    from careledger.store import payments, services
    from careledger.store.providers.wechat import WeChatPayConfig

    call_command("migrate", verbosity=0)
    inst = Institution.objects.create(code="1001", name="bench")
    dept = Department.objects.create(institution=inst, name="d")
    team = CareTeam.objects.create(institution=inst, department=dept, name="t")
    manager = User.objects.create(username="m", role="health_manager", institution=inst)
    admin = User.objects.create(username="a", role="institution_admin", institution=inst)
    CareTeamMembership.objects.create(care_team=team, user=manager)

    people = []
    for i in range(orders):
        birth = dt.date(1960 + i % 30, 1 + i % 12, 1 + i % 28)
        sex = "M" if i % 2 else "F"
        body = f"330102{birth:%Y%m%d}{(i % 500) * 2 + (1 if sex == 'M' else 0):03d}"[:17]
        people.append(
            ClientInput(
                name="张三明",
                sex=sex,
                birth_date=birth,
                document_type="resident_id",
                document_number=body + ric.calc_check_digit(body + "0"),
                phone=f"139{i:08d}",
                address="",
                emergency_contact_name="",
                emergency_contact_phone="",
                emergency_contact_relation="",
                membership_level="gold",
                care_team_ids=[team.id],
            )
        )
    clients = [e.client_id for e in do_enrol_clients(actor=manager, inputs=people).enrolled]
    branch = ps.do_create_branch(
        actor=admin, code="XH", name="西湖", open_weekdays=list(range(1, 8))
    )
    version = ps.do_create_package(
        actor=admin,
        code="basic",
        spec=ps.VersionSpec(name="基础体检套餐", price_fen=59900, lead_days=1, horizon_days=90,
                            cancel_hours=24, branch_ids=[branch.id]),
        items=[ps.ItemSpec(name="心电图", kind="examination")],
    )  # fmt: skip
    ps.do_publish(actor=admin, version_id=version.id)
    day = timezone.localdate() + dt.timedelta(days=3)
    while not day_status(day, open_weekdays=branch.open_weekdays).is_open:
        day += dt.timedelta(days=1)
    ps.do_set_capacity(
        actor=admin, branch_id=branch.id, package_id=version.package_id,
        start=day, end=day, limit=orders * 2,
    )  # fmt: skip

    platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    config = WeChatPayConfig(
        mchid="1900000109",
        appid="wxbench",
        apiv3_key=secrets.token_hex(16).encode(),
        platform_public_key_pem=platform.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        platform_serial="SERIAL",
    )
    settings.CARELEDGER_PAYMENTS = {"offline": {}, "wechat": config}

    def callback(order, n: int) -> tuple[dict[str, str], bytes]:  # type: ignore[no-untyped-def]
        txn = {"mchid": config.mchid, "appid": config.appid, "out_trade_no": order.number,
               "transaction_id": f"42{n:026d}", "trade_state": "SUCCESS",
               "amount": {"total": order.total_fen, "currency": "CNY"}}  # fmt: skip
        nonce = secrets.token_hex(6)
        ct = AESGCM(config.apiv3_key).encrypt(nonce.encode(), json.dumps(txn).encode(), b"t")
        body = json.dumps({"resource": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                          "associated_data": "t", "ciphertext": base64.b64encode(ct).decode()}}
                          ).encode()  # fmt: skip
        stamp, hn = str(int(time.time())), secrets.token_hex(8)
        sig = platform.sign(f"{stamp}\n{hn}\n".encode() + body + b"\n", padding.PKCS1v15(),
                            hashes.SHA256())  # fmt: skip
        return {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": hn,
                "Wechatpay-Serial": "SERIAL",
                "Wechatpay-Signature": base64.b64encode(sig).decode()}, body  # fmt: skip

    timings: dict[str, list[float]] = {"place": [], "desk pay": [], "callback": [], "duplicate": []}
    for n, client_id in enumerate(clients):
        provider = "offline" if n % 2 == 0 else "wechat"
        t0 = time.perf_counter()
        order = services.do_place_order(
            actor=manager, client_id=client_id, version_id=version.id, branch_id=branch.id,
            day=day, provider=provider,
        )  # fmt: skip
        timings["place"].append(time.perf_counter() - t0)
        if provider == "offline":
            t0 = time.perf_counter()
            payments.do_confirm_desk_payment(
                actor=manager, client_id=client_id, order_id=order.id, amount=order.total_fen
            )
            timings["desk pay"].append(time.perf_counter() - t0)
        else:
            headers, body = callback(order, n)
            for step in ("callback", "duplicate"):
                t0 = time.perf_counter()
                result = payments.do_handle_callback(
                    provider_name="wechat", headers=headers, body=body
                )
                timings[step].append(time.perf_counter() - t0)
                assert result.outcome == ("paid" if step == "callback" else "duplicate")
    print(f"[{connection.vendor}] {orders} orders")
    for step, values in timings.items():
        ms = [v * 1000 for v in values]
        print(
            f"[{connection.vendor}] {step:<10} n={len(ms):4d}  p50 {statistics.median(ms):7.2f} ms"
            f"  p95 {_pct(ms, 0.95):7.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.orders)
        return
    legs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for leg in legs:
        with throwaway_env(leg, f"bench_store_{os.getpid()}") as env:
            if env is None:
                continue
            subprocess.run(
                [sys.executable, __file__, "--child", "--orders", str(args.orders)],
                env=env,
                cwd=ROOT,
                check=True,
            )


if __name__ == "__main__":
    main()
