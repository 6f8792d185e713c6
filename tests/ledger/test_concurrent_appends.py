"""Racing appends: the head-row lock serialises them, so entries are gapless, every tile and seal
is written once, and the log verifies (real threads, real transactions; meaningful on
PostgreSQL, skipped on in-memory SQLite which is one connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from careledger.ledger import heads
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry, LedgerHead
from careledger.ledger.verify import verify

THREADS, EACH = 4, 40


@pytest.mark.django_db(transaction=True)
def test_racing_appends_and_signing_keep_the_log_whole():
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name in ("", ":memory:") or "mode=memory" in name):
        pytest.skip("in-memory SQLite is one connection; the race needs real connections")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            for i in range(EACH):
                if i % 2:
                    ledger.record(actor=ledger.SYSTEM, action="race.one", detail={"t": n})
                else:
                    ledger.record_many(
                        actor=ledger.SYSTEM, action="race.two", client_ids=["a", "b"]
                    )
                if i % 10 == 0:
                    heads.do_sign_head()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    size = LedgerHead.objects.get().size
    assert list(LedgerEntry.objects.values_list("seq", flat=True)) == list(range(size))
    report = verify()
    assert report.ok, report.problems
    assert report.heads >= 1
