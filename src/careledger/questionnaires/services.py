"""Every write of a client's questionnaire responses: start (or resume), save progress, submit.

Who: staff of the client's care team through `permissions.FILL` (checked before anything is
read; refusals ledgered by the policy), the client themself in the portal (`portal_*`: the
signed-in account's own client, nobody else's), or whoever holds a valid signed link
(`links.py`, which calls `save_answers` for the link's client). All three end in one path:

1. lock the response row (it must be this client's, in progress);
2. check the answers against the exact version it answers (`answers.check`): answers to
   disabled items are dropped, answers that do not read are reported by item;
3. store the readable answers — coded ones clear, free text sealed under the client's key — so a
   half-filled form is kept and can be resumed; a submission with problems stays in progress;
4. on a clean submission: score it (`scoring.score`), write one `ResponseScore` per score, mark
   them the client's latest for each instrument (unmarking the previous latest), complete it;
5. ledger the save or submission, sealing the response (its digest covers its scores) and any
   earlier response whose scores stopped being the latest — all in one transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger
from careledger.questionnaires import answers as engine
from careledger.questionnaires import permissions, scoring, stored
from careledger.questionnaires.models import (
    Channel,
    Questionnaire,
    QuestionnaireResponse,
    ResponseScore,
    ResponseStatus,
    Status,
)
from careledger.tagging.hooks import facts_changed

PURPOSE = "care"
PORTAL_PURPOSE = "portal"


@dataclass(frozen=True)
class Saved:
    response_id: uuid.UUID
    status: str
    version: int
    problems: list[engine.Problem] = field(default_factory=list)
    scores: list[scoring.Score] = field(default_factory=list)
    submitted: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def check_can_fill(*, actor: User, client_id: uuid.UUID) -> Client:
    client = Client.objects.get(pk=client_id)
    require(actor, permissions.FILL, client_scope(client), purpose=PURPOSE)
    return client


def _published(client: Client, questionnaire_id: uuid.UUID) -> Questionnaire:
    row = Questionnaire.objects.filter(
        pk=questionnaire_id, institution_id=client.institution_id
    ).first()
    if row is None or row.status != Status.PUBLISHED:
        raise ValidationFailed({"questionnaire": [_("This questionnaire is not in use.")]})
    return row


def start(
    *,
    ledger_actor: ledger.Actor,
    author: User | None,
    client: Client,
    questionnaire_id: uuid.UUID,
    channel: str,
    purpose: str,
) -> QuestionnaireResponse:
    """The client's open response to this questionnaire version, or a new one (ledgered)."""
    questionnaire = _published(client, questionnaire_id)
    with transaction.atomic():
        Client.objects.select_for_update().only("id").get(pk=client.id)
        existing = QuestionnaireResponse.objects.filter(
            client=client, questionnaire=questionnaire, status=ResponseStatus.IN_PROGRESS
        ).first()
        if existing is not None:
            return existing
        row = QuestionnaireResponse.objects.create(
            institution_id=client.institution_id,
            client=client,
            questionnaire=questionnaire,
            channel=channel,
            author=author,
        )
        ledger.record(
            actor=ledger_actor,
            action=permissions.RESPONSE_START,
            purpose=purpose,
            client_id=str(client.id),
            resource_type="QuestionnaireResponse",
            resource_id=str(row.id),
            detail={"questionnaire": questionnaire.code, "version": questionnaire.version},
            sealed=[row],
        )
    return row


def _write_scores(
    response: QuestionnaireResponse, scores: list[scoring.Score], now: Any
) -> list[QuestionnaireResponse]:
    """The response's score rows, marked latest; returns the earlier responses whose scores
    stopped being the latest (their seals change with them)."""
    done = [s for s in scores if s.rounded is not None]
    codes = [s.code for s in done]
    earlier = ResponseScore.objects.filter(
        client_id=response.client_id, instrument__in=codes, is_latest=True
    ).exclude(response=response)
    touched = set(earlier.values_list("response_id", flat=True))
    earlier.update(is_latest=False)
    ResponseScore.objects.bulk_create(
        [
            ResponseScore(
                response=response,
                institution_id=response.institution_id,
                client_id=response.client_id,
                instrument=s.code,
                score=s.rounded or Decimal(0),
                band=s.band,
                flag=s.flag,
                answered_at=now,
                is_latest=True,
            )
            for s in done
        ]
    )
    return list(QuestionnaireResponse.objects.filter(pk__in=touched))


def save_answers(
    *,
    ledger_actor: ledger.Actor,
    client: Client,
    response_id: uuid.UUID,
    raw: Mapping[str, Any],
    submit: bool,
    purpose: str,
    author: User | None = None,
) -> Saved:
    """Steps 1–5 of the module docstring for one response of `client` (authorised by the caller)."""
    with transaction.atomic():
        response = (
            QuestionnaireResponse.objects.select_for_update()
            .select_related("questionnaire")
            .get(pk=response_id, client=client)
        )
        if response.status != ResponseStatus.IN_PROGRESS:
            raise ValidationFailed(
                {"__all__": [_("This questionnaire was already submitted: it is closed.")]}
            )
        defn = stored.definition_of(response.questionnaire)
        checked = engine.check(defn, raw, complete=submit)
        coded, text = stored.split(defn, checked.answers)
        response.answers = coded
        response.free_text = json.dumps(text, ensure_ascii=False, sort_keys=True) if text else ""
        response.version += 1
        if author is not None and response.author_id is None:
            response.author = author
        scores: list[scoring.Score] = []
        resealed: list[QuestionnaireResponse] = []
        finished = submit and checked.ok
        now = timezone.now()
        if finished:
            scores = scoring.score(defn, checked.answers)
            response.status = ResponseStatus.COMPLETED
            response.completed_at = now
        response.save()
        if finished:
            resealed = _write_scores(response, scores, now)
            # Scores are facts of risk models (PHQ-9, GAD-7) and tag rules: after commit.
            facts_changed(client_ids=[client.id])
        ledger.record(
            actor=ledger_actor,
            action=permissions.RESPONSE_SUBMIT if finished else permissions.RESPONSE_SAVE,
            purpose=purpose,
            client_id=str(client.id),
            resource_type="QuestionnaireResponse",
            resource_id=str(response.id),
            detail={
                "questionnaire": response.questionnaire.code,
                "version": response.questionnaire.version,
                "answered": len(checked.answers),
                "problems": len(checked.problems),
                "submit": submit,
            },
            sealed=[response, *resealed],
        )
    return Saved(
        response_id=response.id,
        status=response.status,
        version=response.version,
        problems=checked.problems,
        scores=scores,
        submitted=finished,
    )


# -- staff ------------------------------------------------------------------------------------


def do_start_response(
    *, actor: User, client_id: uuid.UUID, questionnaire_id: uuid.UUID
) -> QuestionnaireResponse:
    """Start (or resume) filling in a questionnaire on the client's behalf."""
    client = check_can_fill(actor=actor, client_id=client_id)
    return start(
        ledger_actor=actor_of(actor),
        author=actor,
        client=client,
        questionnaire_id=questionnaire_id,
        channel=Channel.STAFF,
        purpose=PURPOSE,
    )


def do_save_response(
    *,
    actor: User,
    client_id: uuid.UUID,
    response_id: uuid.UUID,
    answers: Mapping[str, Any],
    submit: bool,
) -> Saved:
    """Save progress (`submit=False`) or submit the client's answers."""
    client = check_can_fill(actor=actor, client_id=client_id)
    return save_answers(
        ledger_actor=actor_of(actor),
        client=client,
        response_id=response_id,
        raw=answers,
        submit=submit,
        purpose=PURPOSE,
        author=actor,
    )


# -- the client in the portal -------------------------------------------------------------------


def portal_start(*, account: Any, questionnaire_id: uuid.UUID) -> QuestionnaireResponse:
    """`account`: what `portal.selectors.check_portal_user` returned for the signed-in user."""
    return start(
        ledger_actor=actor_of(account.user),
        author=account.user,
        client=account.client,
        questionnaire_id=questionnaire_id,
        channel=Channel.PORTAL,
        purpose=PORTAL_PURPOSE,
    )


def portal_save(
    *, account: Any, response_id: uuid.UUID, answers: Mapping[str, Any], submit: bool
) -> Saved:
    return save_answers(
        ledger_actor=actor_of(account.user),
        client=account.client,
        response_id=response_id,
        raw=answers,
        submit=submit,
        purpose=PORTAL_PURPOSE,
        author=account.user,
    )
