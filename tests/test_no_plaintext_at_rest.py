"""Invariant 3: no direct identifier is stored in plaintext — not in any table, not in the
ledger, not in the key file, not in the logs."""

from __future__ import annotations

import logging
import stat

import pytest
from django.db import connection

from careledger.clients.models import Client
from careledger.clients.selectors import search_clients
from careledger.crypto import keyring

pytestmark = pytest.mark.django_db

SECRETS = {
    "name": "欧阳明月",
    "address": "杭州市西湖区天目山路888号",
    "emergency_contact_name": "司马青云",
    "phone": "13912345678",
    "emergency_contact_phone": "13787654321",
}


def dump_database() -> str:
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        parts.append(raw.decode("utf-8", errors="ignore"))
                        parts.append(raw.hex())
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def test_no_identifier_is_stored_in_plaintext_anywhere(world, settings, caplog, tmp_path):
    settings.CARELEDGER_MASTER_KEY = ""  # use the key file, so it can be scanned too
    keyring.clear_cache()
    caplog.set_level(logging.DEBUG)
    enrolled = world.enrol(**SECRETS)
    client = Client.objects.get(pk=enrolled.client_id)
    values = [*SECRETS.values(), client.document_number, enrolled.card_number]
    search_clients(world.manager, SECRETS["phone"])
    search_clients(world.manager, SECRETS["name"])
    search_clients(world.manager, client.document_number)

    dump = dump_database()
    assert "clients_client" in connection.introspection.table_names()
    for value in values:
        assert value not in dump, f"plaintext found in the database: {value[:2]}…"
        assert value.encode().hex() not in dump
        assert value not in caplog.text, "plaintext found in the logs"

    key_file = settings.CARELEDGER_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_text = key_file.read_text()
    for value in values:
        assert value not in key_text
    # and the values are really there, sealed: the application reads them back
    assert client.name == SECRETS["name"] and client.address == SECRETS["address"]


def test_a_printed_report_and_a_blocked_message_leave_no_plaintext(world, settings, caplog):
    """A print keeps its record (ids, hash) and ledger event, not the content; the outbound
    check ledgers and logs kinds, not what it found (reports, notifications.outbound)."""
    import re

    from careledger.notifications import gateway, messages
    from careledger.reports import fonts, services

    try:
        fonts.choose()
    except fonts.FontMissing:
        pytest.skip("no CJK font for the report (fonts-noto-cjk)")
    caplog.set_level(logging.DEBUG)
    enrolled = world.enrol(**SECRETS)
    client = Client.objects.get(pk=enrolled.client_id)
    values = [*SECRETS.values(), client.document_number, enrolled.card_number]
    printed = services.do_print(actor=world.doctor, client_id=client.id, purpose="care")
    assert printed.pdf.startswith(b"%PDF")
    settings.CARELEDGER_NOTIFY_BACKEND = "console"
    free = messages.MessageTemplate(
        key="test_free", channels=frozenset({messages.SMS}), text="{note}",
        params={"note": re.compile(r".{1,64}")},
    )  # fmt: skip
    messages.TEMPLATES[free.key] = free
    try:
        with pytest.raises(gateway.SensitiveDataBlocked):
            note = {"note": f"证件{client.document_number}"}
            gateway.send(
                channel="sms", to=SECRETS["phone"], template=free.key, params=note, purpose="care"
            )
    finally:
        del messages.TEMPLATES[free.key]
    dump = dump_database()
    assert "reports_reportprint" in connection.introspection.table_names()
    for value in values:
        assert value not in dump, f"plaintext found in the database: {value[:2]}…"
        assert value not in caplog.text, "plaintext found in the logs"


def test_imported_reports_leave_no_identifier_in_plaintext(world, settings, caplog, tmp_path):
    """A report file names people: the stored file, its name, the quarantine and the logs must
    hold none of it in the clear (the results themselves are pseudonymous by design)."""
    import datetime as dt
    from pathlib import Path

    from tests.conftest import make_citizen_id

    from careledger.exams import services

    settings.CARELEDGER_VAR_DIR = tmp_path
    caplog.set_level(logging.DEBUG)
    enrolled = world.enrol(**SECRETS)
    client = Client.objects.get(pk=enrolled.client_id)
    stranger_id = make_citizen_id(dt.date(1977, 5, 6), "F", 31)
    lines = [
        "MSH|^~\\&|LIS|C|CL|1001|20240506083000||ORU^R01|1|P|2.5.1|||||CHN|UNICODE UTF-8",
        f"PID|1||{client.document_number}^^^^NI||{SECRETS['name']}",
        "OBR|1|A1|A1|CHK|||20240506083000",
        "OBX|1|NM|2345-7^GLU^LN||5.5|mmol/L||||F",
        "OBX|2|NM|NOPE^未知^L||5.5|mmol/L||||F",
        "MSH|^~\\&|LIS|C|CL|1001|20240506083000||ORU^R01|2|P|2.5.1|||||CHN|UNICODE UTF-8",
        f"PID|1||{stranger_id}^^^^NI||司马无名",
        "OBR|1|A2|A2|CHK|||20240506083000",
        "OBX|1|NM|2345-7^GLU^LN||5.5|mmol/L||||F",
    ]
    job = services.do_create_import(
        actor=world.manager,
        filename=f"{SECRETS['name']}.hl7",
        data=("\r".join(lines) + "\r").encode(),
        enqueue=False,
    )
    job = services.run_import(job.id)
    assert job.imported == 1 and job.quarantined == 2
    dump = dump_database()
    stored = "\n".join(p.read_text(errors="ignore") for p in Path(tmp_path).rglob("*.sealed"))
    for value in (SECRETS["name"], client.document_number, stranger_id, "司马无名"):
        assert value not in dump, f"plaintext found in the database: {value[:2]}…"
        assert value not in stored, "plaintext found in a stored file"
        assert value not in caplog.text, "plaintext found in the logs"


def test_an_identified_export_leaves_no_identifier_in_plaintext(world, settings, caplog, tmp_path):
    """An approved export that carries names: its sealed file, the request's justification
    (free text naming the client), the approval and the logs hold none of it in the clear."""
    from careledger.exports import services, vault

    settings.CARELEDGER_VAR_DIR = tmp_path
    caplog.set_level(logging.DEBUG)
    enrolled = world.enrol(**SECRETS)
    client = Client.objects.get(pk=enrolled.client_id)
    export = services.do_request_export(
        actor=world.manager,
        data={
            "purpose": "continuity_of_care",
            "identifier_fields": ["name", "phone", "address", "document_number"],
        },
        justification=f"转诊交接：{SECRETS['name']}，紧急联系人{SECRETS['emergency_contact_name']}",
    )
    services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)
    services.run_export(export.id)
    values = [*SECRETS.values(), client.document_number]
    dump = dump_database()
    files = "\n".join(
        p.read_bytes().decode("utf-8", errors="ignore") for p in tmp_path.rglob("*") if p.is_file()
    )
    assert vault.sealed_path(export).exists()
    for value in values:
        assert value not in dump and value.encode().hex() not in dump, value[:2]
        assert value not in files, f"plaintext in a stored file: {value[:2]}…"
        assert value not in caplog.text
    data = services.do_download_export(
        actor=world.manager, request_id=export.id, mfa_fresh=True
    ).data.decode("utf-8-sig")
    assert SECRETS["name"] in data and client.document_number in data  # really there, sealed


def test_store_invoice_details_and_notes_leave_no_plaintext(world, caplog):
    """发票 title, tax number and e-mail, refund notes and entitlement notes are sealed."""
    from booking.conftest import make_catalogue, next_open_day
    from careledger.membership import services as membership
    from careledger.store import payments
    from careledger.store import services as store

    caplog.set_level(logging.DEBUG)
    catalogue = make_catalogue(world)
    client = Client.objects.get(pk=world.enrol(**SECRETS).client_id)
    order = store.do_place_order(
        actor=world.manager,
        client_id=client.id,
        version_id=catalogue.version.id,
        branch_id=catalogue.branch.id,
        day=next_open_day(catalogue.branch),
    )
    kw = {"actor": world.manager, "client_id": client.id, "order_id": order.id}
    payments.do_confirm_desk_payment(**kw, amount=order.total_fen)
    invoice = ("欧阳明月健康科技有限公司", "91330106MA2CFWXX1B", "ouyang.mingyue@example.com")
    store.do_request_invoice(
        **kw, kind="company", title=invoice[0], tax_number="91110000600037341L", email=invoice[2]
    )
    payments.do_refund(**kw, amount=100, reason_code="other", note="欧阳明月要求退胃镜加项")
    membership.do_set_level_table(actor=world.admin, data={"gold": {"consultation": 1}})
    membership.do_redeem(
        actor=world.manager, client_id=client.id, kind="consultation", note="欧阳明月复诊咨询"
    )
    dump = dump_database()
    for value in ("欧阳明月", "91110000600037341L", invoice[2], "要求退胃镜", "复诊咨询"):
        assert value not in dump, f"plaintext found in the database: {value[:2]}…"
        assert value not in caplog.text


def test_consent_references_retention_reasons_and_backups_leave_no_plaintext(
    world, settings, caplog, tmp_path
):
    """Desk consent references, legal-hold and archive-access reasons are sealed (a backup
    archive's plaintext check: tests/backup/test_backup_restore.py)."""
    import datetime as dt

    from django.utils import timezone

    from careledger.consent import services as consent
    from careledger.consent import text_services
    from careledger.retention import services as retention

    settings.CARELEDGER_VAR_DIR = tmp_path / "var"
    caplog.set_level(logging.DEBUG)
    client_id = world.enrol(**SECRETS).client_id
    draft = text_services.do_create_draft(
        actor=world.admin, purpose="research", title="科研", body="同意科研使用"
    )
    text_services.do_publish(actor=world.admin, text_id=draft.id)
    reference = f"{SECRETS['name']} 签字同意书 柜3"
    consent.do_record(
        actor=world.manager,
        client_id=client_id,
        text_id=draft.id,
        method="paper",
        reference=reference,
    )
    hold_reason = f"{SECRETS['name']} 诉讼保全"
    hold = retention.do_place_hold(actor=world.admin, client_id=client_id, reason=hold_reason)
    retention.do_release_hold(actor=world.admin, hold_id=hold.id)
    retention.run_institution(world.inst, now=timezone.now() + dt.timedelta(days=800))
    access_reason = f"{SECRETS['name']} 来电复诊"
    retention.do_grant_archive_access(
        actor=world.manager, client_id=client_id, reason=access_reason
    )
    dump = dump_database()
    for value in (reference, hold_reason, access_reason, SECRETS["name"]):
        assert value not in dump and value not in caplog.text, value[:2]


def test_followup_notes_and_calls_leave_no_plaintext(world, settings, caplog):
    """A follow-up note is sealed under the client's key; a click-to-call request stores,
    ledgers and logs no number; the scheduler's events name clients by id only."""
    from careledger.followup import generation, services
    from careledger.followup.models import FollowupTask
    from followup.conftest import Follow

    caplog.set_level(logging.DEBUG)
    fu = Follow(world)
    client_id = world.enrol(**SECRETS).client_id
    fu.consent(client_id)
    fu.tag_client(client_id)
    fu.plan()
    generation.generate_institution(institution_id=world.inst.id)
    task = FollowupTask.objects.get(client_id=client_id)
    services.do_request_call(actor=world.nurse, task_id=task.id)
    services.do_record_outcome(
        actor=world.nurse,
        task_id=task.id,
        data=services.OutcomeInput(outcome="reached", note="欧阳明月诉头晕三天"),
    )
    dump = dump_database()
    for value in (*SECRETS.values(), "诉头晕三天"):
        assert value not in dump, f"plaintext found in the database: {value[:2]}…"
        assert value not in caplog.text
