"""Consent fixtures: published texts made through the admin's services, a client of team A."""

from __future__ import annotations

import uuid

import pytest

from careledger.consent import text_services
from careledger.consent.purposes import Purpose
from portal.conftest import outbox, portal, sign_in  # noqa: F401 (the portal's fixtures)


@pytest.fixture
def texts(world):  # type: ignore[no-untyped-def]
    """A published text for every purpose of the institution."""
    out = {}
    for purpose in Purpose:
        draft = text_services.do_create_draft(
            actor=world.admin,
            purpose=purpose.value,
            title=f"{purpose.value} 知情同意书",
            body=f"本人同意 {purpose.value} 的处理。",
        )
        out[purpose] = text_services.do_publish(actor=world.admin, text_id=draft.id)
    return out


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    return world.enrol()


PARTNER = uuid.UUID("5a1e0000-0000-4000-8000-000000000001")
