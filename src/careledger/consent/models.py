"""Consent texts and consents (知情同意).

`ConsentText` is what a client is asked to agree to: one purpose, one version, written by the
institution's admin. A draft may be edited; once published it is immutable (the services refuse
to change it and the ledger seals the published row, so an edit behind the application's back is
reported by `careledger ledger verify`); a new wording is a new version. A consent records the
text it was given against, by id, version and SHA-256 of the body, so what the client agreed to
can always be shown word for word.

`Consent` is one grant: given at `given_at`, in force until `withdrawn_at`. History is the rows
themselves (a withdrawn consent is kept; giving it again is a new row), so "was there consent at
time t" is one indexed query and the FHIR export is the rows as they are. At most one row per
(client, purpose, partner) is in force (partial unique constraint). The reference to the signed
paper form or the recording (desk capture) is sealed under the client's data key.

`ConsentChallenge` is a portal capture waiting for its one-time code: the code is kept only as a
keyed HMAC, expires after five minutes and is burnt after five wrong tries (the portal's rules).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client, ClientSealed
from careledger.consent.purposes import Purpose
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import Institution, TimeStamped

PURPOSE_CHOICES = [
    (Purpose.HEALTH_MANAGEMENT.value, _("Health management")),
    (Purpose.SENSITIVE_PI.value, _("Sensitive personal information (separate consent)")),
    (Purpose.FOLLOWUP_PHONE.value, _("Follow-up by phone")),
    (Purpose.FOLLOWUP_SMS.value, _("Follow-up and reminders by SMS")),
    (Purpose.FOLLOWUP_WECHAT.value, _("Follow-up by WeChat")),
    (Purpose.RESEARCH.value, _("Research use (de-identified)")),
    (Purpose.SHARE_PARTNER.value, _("Sharing with a partner institution")),
]


class TextStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ConsentText(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=32, choices=PURPOSE_CHOICES)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()  # the institution's own wording: not personal data
    body_sha256 = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=TextStatus.choices, default="draft")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["institution", "purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "purpose", "version"], name="consent_text_version_once"
            ),
            models.UniqueConstraint(
                fields=["institution", "purpose"],
                condition=models.Q(status="published"),
                name="consent_text_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"ConsentText {self.purpose} v{self.version}"


class Method(models.TextChoices):
    PORTAL_OTP = "portal_otp", _("In the portal, confirmed by SMS code")
    PAPER = "paper", _("Signed paper form at the desk")
    RECORDING = "recording", _("Recorded verbal consent")


class Consent(ClientSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=PURPOSE_CHOICES)
    # The named recipient of `share_partner` (an institution id; the sharing app owns what a
    # partner is). `partner_key` is its text form, "" for every other purpose, so that the
    # "one in force" constraint works alike on PostgreSQL and SQLite (NULLs are distinct).
    partner_institution_id = models.UUIDField(null=True, blank=True)
    partner_key = models.CharField(max_length=36, blank=True, default="")
    partner_name = models.CharField(max_length=200, blank=True, default="")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="consents")
    text_version = models.PositiveIntegerField()
    text_sha256 = models.CharField(max_length=64)
    method = models.CharField(max_length=16, choices=Method.choices)
    # Where the signed paper form or the recording is kept (desk capture); sealed.
    reference = EncryptedTextField(blank=True, default="")
    given_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    withdrawal_method = models.CharField(max_length=16, blank=True, default="")
    withdrawal_reference = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["client", "-given_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "purpose", "partner_key"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_in_force",
            )
        ]
        indexes = [models.Index(fields=["client", "purpose", "given_at"], name="consent_lookup")]

    def __str__(self) -> str:
        return f"Consent {self.id}"


class ConsentChallenge(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    partner_institution_id = models.UUIDField(null=True, blank=True)
    partner_name = models.CharField(max_length=200, blank=True, default="")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    burnt_at = models.DateTimeField(null=True, blank=True)
    consent = models.ForeignKey(
        Consent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "created_at"], name="consent_chal_client")]

    def __str__(self) -> str:
        return f"ConsentChallenge {self.id}"
