"""Staff (and portal) user accounts. Each staff user belongs to one institution and holds one
role from ARCHITECTURE.md §1; what a role may do lives in `careledger.access.roles`.

MFA devices are django-otp's models (TOTP and static backup codes); lockout state is
django-axes' `AccessAttempt`. What lives here is what those libraries do not cover: the
session epoch behind "log out everywhere", and admin-issued password-reset links.
"""

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
    # "Log out everywhere": every session carries the epoch it was opened under; bumping this
    # (by the user, a password change, an admin disabling the account) ends all of them at
    # their next request (careledger.accounts.middleware).
    session_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class HashedToken(models.Model):
    """A secret shown once: only its SHA-256 (`digest`) is stored, with its lifetime."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(HashedToken):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate() -> str:
        return "clt_" + secrets.token_urlsafe(32)


class PasswordResetLink(HashedToken):
    """A one-time password-reset link an institution admin issued for a user of their
    institution (there is no e-mail reset: the admin hands the link over out of band).

    Only the SHA-256 of the token is stored. Using it sets a password and nothing else: the
    user still signs in with the new password and then their TOTP code (a reset never
    bypasses MFA).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reset_links")
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="reset_links_issued")
    used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)
