"""Questionnaires, their responses, scores and signed links (docs/decisions/0008-questionnaires.md).

`Questionnaire` is one version of one definition: the institution's, its canonical URL and a
version number, a status (draft → published → retired) and the FHIR Questionnaire JSON itself
(`resource`, whose `version` and `status` the services keep in step). A published version is
never changed: the services refuse it, and its row is sealed in the ledger, so an edit made
behind the application's back is reported by `careledger ledger verify`. Editing a published
questionnaire makes a new draft version (the next number) from it.

`QuestionnaireResponse` is one client's answers to exactly one version, keyed by the client's
internal id. Coded answers — chosen option codes, numbers, yes/no, dates — stay clear in
`answers` (pseudonymous, so scores and cohorts can be queried); free text (string and text
answers, and the text typed into an open-choice "other") is sealed under the client's own data
key in `free_text`, as the health record seals its notes. Progress is kept: a response is
`in_progress` until it is submitted (`completed`).

`ResponseScore` rows are the computed scores and bands of a completed response, coded and clear,
one per score (PHQ-9 total, PHQ-9 item 9, each TCM constitution...), with `is_latest` marking the
newest completed score of each instrument per client: the population read in `facts.py` is one
indexed filter. They are covered by their response's ledger seal (`sealed_children`).

`ResponseLink` is a signed, expiring, single-use link sent to a client: only the SHA-256 of the
token is stored (see `links.py`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client, ClientSealed
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import Institution, TimeStamped


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


FHIR_STATUS = {Status.DRAFT: "draft", Status.PUBLISHED: "active", Status.RETIRED: "retired"}


class Questionnaire(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=40)  # short code ("phq9"), from the JSON's code extension
    url = models.CharField(max_length=255)  # canonical URL, shared by all versions
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=200)
    builtin = models.BooleanField(default=False)
    resource = models.JSONField()  # the FHIR R4 Questionnaire
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "url", "version"], name="q_one_row_per_version"
            ),
            models.UniqueConstraint(
                fields=["institution", "url"],
                condition=Q(status="draft"),
                name="q_one_draft_per_url",
            ),
        ]
        indexes = [models.Index(fields=["institution", "status"], name="q_inst_status")]

    def __str__(self) -> str:
        return f"Questionnaire {self.id}"


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class Channel(models.TextChoices):
    STAFF = "staff", _("Filled by staff")
    PORTAL = "portal", _("Client portal")
    LINK = "link", _("Link sent to the client")


class QuestionnaireResponse(ClientSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS
    )
    answers = models.JSONField(default=dict)  # coded answers by linkId (values.to_json)
    free_text = EncryptedTextField(blank=True, default="")  # JSON {linkId: [text...]}
    channel = models.CharField(max_length=8, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    version = models.PositiveIntegerField(default=1)  # bumped at every save
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["client", "status"], name="q_response_client"),
            models.Index(fields=["questionnaire", "status"], name="q_response_q"),
        ]

    def __str__(self) -> str:
        return f"QuestionnaireResponse {self.id}"

    def sealed_children(self) -> list[models.Model]:
        """What this row's ledger digest also covers (its scores; see ledger.rows)."""
        return list(ResponseScore.objects.filter(response_id=self.pk).order_by("id"))

    @classmethod
    def prefetch_sealed_children(cls, rows: list[Any]) -> None:
        by_response: dict[uuid.UUID, list[ResponseScore]] = {row.pk: [] for row in rows}
        for score in ResponseScore.objects.filter(response_id__in=list(by_response)).order_by("id"):
            by_response[score.response_id].append(score)
        for row in rows:
            row._sealed_children = by_response[row.pk]


class ResponseScore(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.CASCADE, related_name="scores"
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=40)  # the score's code: "phq9", "tcm:qixu"
    score = models.DecimalField(max_digits=9, decimal_places=2)
    band = models.CharField(max_length=30, blank=True, default="")
    flag = models.BooleanField(default=False)
    answered_at = models.DateTimeField()
    is_latest = models.BooleanField(default=True)

    class Meta:
        ordering = ["instrument"]
        indexes = [
            models.Index(
                fields=["institution", "client", "instrument"],
                condition=Q(is_latest=True),
                name="q_score_latest",
            ),
            models.Index(fields=["client", "instrument"], name="q_score_client"),
        ]

    def __str__(self) -> str:
        return f"ResponseScore {self.id}"


class ResponseLink(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "created_at"], name="q_link_client")]

    def __str__(self) -> str:
        return f"ResponseLink {self.id}"
