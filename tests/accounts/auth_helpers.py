"""Helpers for the sign-in tests (a plain module, not a conftest: `from conftest import` in
other test folders must keep finding tests/conftest.py)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client as HttpClient
from django.urls import reverse

from careledger.ledger.models import LedgerEntry
from conftest import TEST_PASSWORD


def sign_in(
    http: HttpClient,
    username: str,
    password: str = TEST_PASSWORD,
    *,
    ip: str = "127.0.0.1",
    **extra: Any,
):  # type: ignore[no-untyped-def]
    return http.post(
        reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def events(action: str, **filters: Any) -> list[dict[str, Any]]:
    """Ledger leaves of one action, oldest first, as dicts."""
    rows = LedgerEntry.objects.filter(action=action, **filters).order_by("seq")
    return [json.loads(row.leaf) for row in rows]


def all_leaves() -> str:
    return "\n".join(LedgerEntry.objects.order_by("seq").values_list("leaf", flat=True))
