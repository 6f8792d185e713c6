"""Partner institutions, the share grants clients give them, and every fetch under a grant.

A `Partner` (合作机构) is an outside institution registered by one of ours, with exactly one
OAuth 2 client (django-oauth-toolkit `Application`, client-credentials, hashed secret) and the
SMART system scopes it may ask for. It is not a user and holds no care team: its only way to a
client is a `ShareGrant`.

A grant names one client, one partner, the categories (see `categories.py`), the data window, an
expiry and a number of uses; it is `pending` until the client confirms it with a one-time code
(portal) or created `active` by staff with the client's recorded consent, and `revoked` the moment
the client or staff say so. The code's HMAC is all that is kept of it. Every fetch writes a
`ShareFetch` pointing at its ledger entry (the entry is the proof; the row is the index the
pages list from). Grants are sealed in the ledger at every change (`careledger ledger verify`
finds an edited expiry or use count).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client
from careledger.institutions.models import Institution, TimeStamped


class Partner(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)  # an institution's name: not personal data
    code = models.CharField(max_length=32)  # e.g. its USCC or an internal short code
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.PROTECT,
        related_name="partner",
    )
    scopes = models.JSONField(default=list)  # SMART system scopes it may be given
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="partner_code_once")
        ]

    def __str__(self) -> str:
        return f"Partner {self.id}"


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the client's code")
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class Channel(models.TextChoices):
    PORTAL = "portal", _("By the client in the portal")
    STAFF = "staff", _("By staff with the client's consent")


class ShareGrant(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="share_grants")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="grants")
    categories = models.JSONField(default=list)
    data_from = models.DateField(null=True, blank=True)
    data_to = models.DateField(null=True, blank=True)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField()
    uses = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=GrantStatus.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    # Portal confirmation: the HMAC of the one-time code, its expiry and the wrong tries left.
    code_hash = models.CharField(max_length=64, blank=True, default="")
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_tries = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["client", "created_at"], name="share_grant_client"),
            models.Index(fields=["partner", "client", "status"], name="share_grant_partner"),
        ]

    def __str__(self) -> str:
        return f"ShareGrant {self.id}"


class ShareFetch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    grant = models.ForeignKey(ShareGrant, on_delete=models.CASCADE, related_name="fetches")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    seq = models.BigIntegerField()  # the ledger entry of this fetch
    interaction = models.CharField(max_length=16)  # bundle, read, search, everything
    resource_types = models.JSONField(default=list)
    resources = models.PositiveIntegerField(default=0)
    bundle_sha256 = models.CharField(max_length=64, blank=True, default="")
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["-fetched_at", "id"]
        indexes = [models.Index(fields=["client", "fetched_at"], name="share_fetch_client")]

    def __str__(self) -> str:
        return f"ShareFetch {self.id}"
