"""Staff (and, later, portal) user accounts. Each staff user belongs to one institution and
holds one role from ARCHITECTURE.md §1; what a role may do lives in `careledger.access.roles`."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.institutions.models import Institution


class Role(models.TextChoices):
    HEALTH_MANAGER = "health_manager", _("Health manager")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Follow-up nurse")
    INSTITUTION_ADMIN = "institution_admin", _("Institution admin")
    AUDITOR = "auditor", _("Auditor")
    ANALYST = "analyst", _("Data analyst")
    CLIENT = "client", _("Client")


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    display_name = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def generate() -> str:
        return "clt_" + secrets.token_urlsafe(32)
