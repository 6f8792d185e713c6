"""A number that belongs to no client gets the same answer, the same next page, the same
refusals and the same work on the request path as a client's number: only the background task,
after the answer has gone, knows there is no one to send to. And no log line carries a number."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.ledger.models import LedgerEntry
from careledger.portal.models import LoginChallenge

from .conftest import sent_codes, visible_text

pytestmark = pytest.mark.django_db
KNOWN = "13912340000"
UNKNOWN = "13912349999"


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    return world.enrol(phone=KNOWN)


def ask_measured(p, phone):  # type: ignore[no-untyped-def]
    """POST the number; the queries the request made, and the callbacks it left for after
    commit (run afterwards, as the worker would)."""
    with CaptureQueriesContext(connection) as queries, p.capture(execute=False) as callbacks:
        response = p.http.post(
            "/portal/login/", {"institution": str(p.institution.id), "phone": phone}
        )
    for callback in callbacks:
        callback()
    shapes = [
        re.sub(r'"s\d+_x\d+"', "SP", re.split(" WHERE | VALUES | SET ", q["sql"])[0])
        for q in queries.captured_queries
    ]
    return response, shapes, len(callbacks)


def test_known_and_unknown_numbers_get_the_same_answer(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    portal().ask("13700000001")  # first use of the institution's keys: not part of the comparison
    known, unknown = portal(), portal()
    r_known, q_known, cb_known = ask_measured(known, KNOWN)
    r_unknown, q_unknown, cb_unknown = ask_measured(unknown, UNKNOWN)
    assert (r_known.status_code, r_known["Location"]) == (
        r_unknown.status_code,
        r_unknown["Location"],
    )
    # The same statements on the request path, in the same order, and one delivery task each.
    assert q_known == q_unknown
    assert cb_known == cb_unknown == 1
    page_known = visible_text(known.http.get("/portal/login/code/").content.decode())
    page_unknown = visible_text(unknown.http.get("/portal/login/code/").content.decode())
    strip = lambda t: t.split("请求编号")[0]  # noqa: E731 - the request id differs
    assert strip(page_known) == strip(page_unknown)
    assert "如果该号码已在中心登记" in page_known
    # Both have a challenge; only the client's number got a message.
    assert LoginChallenge.objects.count() == 3
    assert len(sent_codes(outbox)) == 1


def test_wrong_codes_and_rate_limits_read_the_same(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    known, unknown = portal(), portal()
    known.ask(KNOWN)
    unknown.ask(UNKNOWN)
    for _ in range(5):
        a, b = known.enter("000000"), unknown.enter("000000")
        assert a.status_code == b.status_code == 400
        assert (
            visible_text(a.content.decode()).split("请求编号")[0]
            == visible_text(b.content.decode()).split("请求编号")[0]
        )
    again_known, again_unknown = known.ask(KNOWN), unknown.ask(UNKNOWN)
    assert again_known.status_code == again_unknown.status_code == 429


def test_both_requests_are_ledgered_alike(member, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    portal().ask(KNOWN)
    portal().ask(UNKNOWN)
    requests = list(LedgerEntry.objects.filter(action="portal.code.request").order_by("seq"))
    assert [e.outcome for e in requests] == ["allowed", "allowed"]
    assert requests[0].client_id == str(member.client_id) and requests[1].client_id == ""


def test_no_log_line_carries_the_number_or_the_code(
    member, portal, outbox, caplog, settings
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    settings.CARELEDGER_NOTIFY_BACKEND = "console"  # the one backend that logs each message
    p = portal()
    p.ask(KNOWN)
    p.ask(UNKNOWN)
    p.http.post("/portal/login/code/", {"code": "123456"})
    lines = [f"{r.name} {r.msg!s} {r.getMessage()}" for r in caplog.records]
    assert any("notify.console" in line for line in lines)
    for line in lines:
        assert KNOWN not in line and UNKNOWN not in line
        assert "1391234" not in line  # not even a prefix
