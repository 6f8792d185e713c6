"""`has_consent`, the read API other apps build on: current state, history, partners, and a
withdrawal that flips the answer at once (same request, same transaction, no cache)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from careledger.clients.validation import ValidationFailed
from careledger.consent import selectors, services
from careledger.consent.purposes import Purpose, PurposeError, followup_purpose
from consent.conftest import PARTNER

pytestmark = pytest.mark.django_db


def give(world, member, texts, purpose, **kw):  # type: ignore[no-untyped-def]
    return services.do_record(
        actor=world.manager,
        client_id=member.client_id,
        text_id=texts[purpose].id,
        method="paper",
        reference="纸质同意书 2026-001 号，档案柜 3",
        **kw,
    )


def test_no_consent_until_given_then_in_force(world, member, texts):  # type: ignore[no-untyped-def]
    cid = member.client_id
    assert not selectors.has_consent(client_id=cid, purpose="followup_sms")
    give(world, member, texts, Purpose.FOLLOWUP_SMS)
    assert selectors.has_consent(client_id=cid, purpose=Purpose.FOLLOWUP_SMS)
    assert selectors.has_consent(client_id=cid, purpose=followup_purpose("sms"))
    assert not selectors.has_consent(client_id=cid, purpose="followup_phone")
    assert selectors.consented_channels(client_id=cid) == frozenset({"sms"})


def test_withdrawal_flips_the_answer_within_the_same_transaction(world, member, texts):  # type: ignore[no-untyped-def]
    cid = member.client_id
    consent = give(world, member, texts, Purpose.FOLLOWUP_SMS)
    with transaction.atomic():  # one request: check, withdraw, check again
        assert selectors.has_consent(client_id=cid, purpose="followup_sms")
        services.do_withdraw(
            actor=world.manager, consent_id=consent.id, method="paper", reference="撤回书 07 号"
        )
        assert not selectors.has_consent(client_id=cid, purpose="followup_sms")
    assert not selectors.has_consent(client_id=cid, purpose="followup_sms")
    assert selectors.consented_channels(client_id=cid) == frozenset()


def test_history_answers_for_a_past_moment(world, member, texts):  # type: ignore[no-untyped-def]
    cid = member.client_id
    consent = give(world, member, texts, Purpose.RESEARCH)
    during = timezone.now()
    services.do_withdraw(actor=world.manager, consent_id=consent.id, method="paper", reference="x")
    assert selectors.has_consent(client_id=cid, purpose="research", at=during)
    assert not selectors.has_consent(client_id=cid, purpose="research")
    assert not selectors.has_consent(
        client_id=cid, purpose="research", at=consent.given_at - dt.timedelta(seconds=1)
    )
    # Given again: a new row, the old one kept as history.
    again = give(world, member, texts, Purpose.RESEARCH)
    assert again.id != consent.id
    assert selectors.has_consent(client_id=cid, purpose="research")


def test_partner_sharing_is_per_named_partner(world, member, texts):  # type: ignore[no-untyped-def]
    cid = member.client_id
    give(world, member, texts, Purpose.SHARE_PARTNER, partner_institution_id=PARTNER)
    assert selectors.has_consent(
        client_id=cid, purpose="share_partner", partner_institution_id=PARTNER
    )
    assert selectors.has_consent(
        client_id=cid, purpose="share_partner", partner_institution_id=str(PARTNER)
    )
    assert not selectors.has_consent(
        client_id=cid, purpose="share_partner", partner_institution_id=world.other_inst.id
    )
    assert selectors.consented_partners(client_id=cid) == frozenset({PARTNER})


def test_purpose_and_partner_misuse_is_a_specific_error(world, member):  # type: ignore[no-untyped-def]
    cid = member.client_id
    with pytest.raises(PurposeError) as unknown:
        selectors.has_consent(client_id=cid, purpose="marketing")
    assert unknown.value.code == "unknown_purpose"
    with pytest.raises(PurposeError) as missing:
        selectors.has_consent(client_id=cid, purpose="share_partner")
    assert missing.value.code == "partner_required"
    with pytest.raises(PurposeError) as extra:
        selectors.has_consent(client_id=cid, purpose="research", partner_institution_id=PARTNER)
    assert extra.value.code == "partner_not_allowed"


def test_one_consent_in_force_per_purpose(world, member, texts):  # type: ignore[no-untyped-def]
    give(world, member, texts, Purpose.SENSITIVE_PI)
    with pytest.raises(ValidationFailed) as twice:
        give(world, member, texts, Purpose.SENSITIVE_PI)
    assert twice.value.errors == {"purpose": ["already_in_force"]}


def test_has_consent_is_one_query(world, member, texts, django_assert_num_queries):  # type: ignore[no-untyped-def]
    give(world, member, texts, Purpose.FOLLOWUP_PHONE)
    with django_assert_num_queries(1):
        assert selectors.has_consent(client_id=member.client_id, purpose="followup_phone")
    with django_assert_num_queries(1):
        selectors.consented_channels(client_id=member.client_id)
