"""Portal fixtures: messages go to a file outbox, Celery runs inline, and helpers drive the
two sign-in steps through the real views (on-commit callbacks executed, as in production)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from careledger.notifications.backends import read_outbox


@pytest.fixture
def outbox(settings, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    settings.CARELEDGER_NOTIFY_BACKEND = "file"
    settings.CARELEDGER_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox" / "sms.jsonl"


@pytest.fixture(autouse=True)
def eager_tasks(settings):  # type: ignore[no-untyped-def]
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def sent_codes(outbox: Path) -> list[str]:
    return [m["params"]["code"] for m in read_outbox(outbox)]


class Portal:
    """One browser-like session on the portal (a Django test client of its own)."""

    def __init__(self, http, capture, institution) -> None:  # type: ignore[no-untyped-def]
        self.http = http
        self.capture = capture
        self.institution = institution

    def ask(self, phone: str, **extra):  # type: ignore[no-untyped-def]
        with self.capture(execute=True):
            return self.http.post(
                "/portal/login/",
                {"institution": str(self.institution.id), "phone": phone},
                **extra,
            )

    def enter(self, code: str):  # type: ignore[no-untyped-def]
        with self.capture(execute=True):
            return self.http.post("/portal/login/code/", {"code": code})

    def sign_in(self, phone: str, outbox: Path):  # type: ignore[no-untyped-def]
        response = self.ask(phone)
        assert response.status_code == 302, response.content.decode()[:500]
        response = self.enter(sent_codes(outbox)[-1])
        assert response.status_code == 302 and response["Location"] == "/portal/", response
        return response


@pytest.fixture
def portal(world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from django.test import Client

    def make(institution=None):  # type: ignore[no-untyped-def]
        return Portal(Client(), django_capture_on_commit_callbacks, institution or world.inst)

    return make


def visible_text(html: str) -> str:
    """Page text without tags and without the CSRF token (which differs per session)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"<[^>]+>", " ", html)
    return " ".join(html.split())


@pytest.fixture
def sign_in(portal, outbox, world):  # type: ignore[no-untyped-def]
    """Enrol a client with the given phone (if not yet) and sign them in; returns the Portal."""
    from django.utils import timezone

    from careledger.portal.models import LoginChallenge

    def go(phone: str, *, institution=None):  # type: ignore[no-untyped-def]
        # Earlier sign-ins of this test must not count against the one-a-minute limit.
        LoginChallenge.objects.update(created_at=timezone.now() - timezone.timedelta(hours=2))
        p = portal(institution)
        p.sign_in(phone, outbox)
        return p

    return go
