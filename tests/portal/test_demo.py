"""seed-demo makes the portal usable: it prints one demo client's mobile number and gives that
client an access log, once."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from careledger.ledger.models import LedgerEntry
from careledger.portal.services import find_client

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_a_portal_number_whose_log_has_entries(settings, portal, outbox) -> None:  # type: ignore[no-untyped-def]
    from careledger.institutions.models import Institution

    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("seed_demo", "--clients", "6", stdout=out)
    match = re.search(
        r"client portal \(demo mode only\): /portal/login/ with mobile (1\d{10})", out.getvalue()
    )
    assert match, out.getvalue()
    phone = match.group(1)
    institution = Institution.objects.get(code="1001")
    client = find_client(institution, phone)
    assert client is not None
    actions = set(
        LedgerEntry.objects.filter(client_id=str(client.id)).values_list("action", "outcome")
    )
    assert {
        ("client.view", "allowed"),
        ("client.search", "allowed"),
        ("client.view", "denied"),
    } <= actions

    views_before = LedgerEntry.objects.filter(
        client_id=str(client.id), action="client.view"
    ).count()
    call_command("seed_demo", "--clients", "6", stdout=io.StringIO())
    assert (
        LedgerEntry.objects.filter(client_id=str(client.id), action="client.view").count()
        == views_before
    )

    p = portal(institution)
    p.sign_in(phone, outbox)
    assert "查看档案" in p.http.get("/portal/access-log/").content.decode()


def test_seed_demo_publishes_the_starter_tag_rules_once_and_tags_clients(settings) -> None:  # type: ignore[no-untyped-def]
    from careledger.demo.tagging import DEMO_RULES
    from careledger.tagging.models import ClientTag, RuleStatus, TagRule

    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("seed_demo", "--clients", "12", stdout=out)
    published = TagRule.objects.filter(status=RuleStatus.PUBLISHED)
    assert published.count() == len(DEMO_RULES)
    assert f"tag rules: {len(DEMO_RULES)} published now" in out.getvalue()
    tagged = ClientTag.objects.count()
    assert tagged > 0  # the demo check-ups give some clients high blood pressure, lipids, BMI…
    again = io.StringIO()
    call_command("seed_demo", "--clients", "12", stdout=again)
    assert "tag rules: 0 published now, 0 tag change(s)" in again.getvalue()
    assert ClientTag.objects.count() == tagged and published.count() == len(DEMO_RULES)
