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
