"""The outbound check at the gateway: a message carrying a citizen id, a phone number, a bank
card, an address or another client's name is blocked (or, under `warn`, sent) and ledgered with
its findings as kinds, spans and client ids — never the values; other clients' names are found
through the name blind index in one set query, the recipient's own name is not a finding."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.ledger.models import LedgerEntry
from careledger.notifications import gateway, messages, outbound
from careledger.notifications.backends import read_outbox
from conftest import make_citizen_id

pytestmark = pytest.mark.django_db

CITIZEN = make_citizen_id(dt.date(1968, 3, 2), "M", 11)
# A template with a free parameter, as a WeChat or follow-up message could have (test only).
FREE = messages.MessageTemplate(
    key="test_free_text",
    channels=frozenset({messages.SMS}),
    text="【康链健康】随访提醒：{note}",
    params={"note": re.compile(r".{1,64}", re.S)},
)


@pytest.fixture
def outbox(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    settings.CARELEDGER_NOTIFY_BACKEND = "file"
    settings.CARELEDGER_OUTBOX_DIR = tmp_path / "outbox"
    monkeypatch.setitem(messages.TEMPLATES, FREE.key, FREE)
    return tmp_path / "outbox" / "sms.jsonl"


def send(note: str, client_id=None):  # type: ignore[no-untyped-def]
    return gateway.send(channel="sms", to="13912345678", template=FREE.key,
                        params={"note": note}, client_id=client_id, purpose="followup")  # fmt: skip


def last_send() -> dict:
    entry = LedgerEntry.objects.filter(action="notify.send").order_by("seq").last()
    return {"outcome": entry.outcome, "leaf": entry.leaf, **json.loads(entry.leaf)["detail"]}


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        (f"证件号{CITIZEN}", "citizen_id"),
        ("请回电139 8765 4321", "phone"),
        ("退款到卡6222020200112233446", "bank_card"),
        ("请到文三路100号复查", "address"),
    ],
)
def test_a_message_with_personal_data_is_blocked_and_ledgered_without_it(outbox, note, kind):
    with pytest.raises(gateway.SensitiveDataBlocked) as raised:
        send(note)
    assert raised.value.code == "sensitive_data" and kind in str(raised.value)
    assert read_outbox(outbox) == []
    event = last_send()
    assert event["outcome"] == "denied" and event["error"] == "sensitive_data"
    assert event["policy"] == "block" and [f["kind"] for f in event["findings"]] == [kind]
    digits = re.sub(r"\D", "", note)
    assert (digits and digits not in event["leaf"]) or "文三路" not in event["leaf"]


def test_under_the_warn_policy_it_is_sent_and_the_findings_ledgered(outbox, settings, caplog):
    settings.CARELEDGER_OUTBOUND_POLICY = "warn"
    with caplog.at_level(logging.WARNING):
        send(f"证件号{CITIZEN}，电话13987654321")
    [message] = read_outbox(outbox)
    assert CITIZEN in message["text"]  # it went, as the policy says
    event = last_send()
    assert event["outcome"] == "allowed" and event["policy"] == "warn"
    assert [f["kind"] for f in event["findings"]] == ["citizen_id", "phone"]
    assert CITIZEN not in event["leaf"] and "13987654321" not in event["leaf"]
    assert CITIZEN not in caplog.text and "13987654321" not in caplog.text


def test_another_clients_name_is_found_through_the_blind_index(world, outbox):
    recipient = world.enrol(name="张三明").client_id
    other = world.enrol(name="欧阳明月").client_id
    with pytest.raises(gateway.SensitiveDataBlocked):
        send("欧阳明月的复查结果已出", client_id=recipient)
    event = last_send()
    assert event["findings"] == [{"kind": "client_name", "at": [11, 15], "client": str(other)}]
    assert "欧阳" not in event["leaf"]


def test_the_recipients_own_name_and_other_institutions_clients_are_not_findings(world, outbox):
    recipient = world.enrol(name="欧阳明月").client_id
    world.enrol(actor=world.outsider, team=world.other_team, name="司马青衫")
    send("欧阳明月您好，司马青衫医生提醒您按时服药", client_id=recipient)
    assert last_send()["findings"] == []
    assert len(read_outbox(outbox)) == 1


def test_a_client_named_like_the_templates_own_words_does_not_block_it(world, outbox):
    world.enrol(name="健康")
    recipient = world.enrol(name="张三明").client_id
    send("请按时服药", client_id=recipient)  # 【康链健康】 is the template's signature
    assert last_send()["findings"] == []


def test_the_name_check_is_one_query_however_long_the_message(world, outbox):
    recipient = world.enrol(name="张三明").client_id
    for _ in range(3):
        world.enrol(name="李四光")

    def queries(note: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            outbound.check(text=note, client_id=str(recipient))
        return len(captured.captured_queries)

    assert (
        queries("请按时服药")
        == queries("请按时服药，多喝水，少吃盐，每天快走三十分钟，早睡早起")
        == 2
    )


def test_a_clean_message_goes_and_an_unknown_policy_is_a_clear_error(outbox, settings):
    send("请按时服药，下周三复查")
    assert last_send()["findings"] == [] and len(read_outbox(outbox)) == 1
    settings.CARELEDGER_OUTBOUND_POLICY = "ignore"
    with pytest.raises(ValueError, match="CARELEDGER_OUTBOUND_POLICY must be one of"):
        send("请按时服药")
