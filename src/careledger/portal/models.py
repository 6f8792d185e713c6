"""Portal accounts and sign-in challenges.

A portal account is an ordinary `accounts.User` with role "client" and no usable password,
tied to exactly one `clients.Client` through `PortalAccount` (one-to-one both ways): a client
has at most one account, an account acts for exactly one client, and the portal's pages take no
client id at all; they always act on the signed-in account's client. The account is created on
the first successful sign-in, so enrolment needs no extra step.

A `LoginChallenge` is one request for a code. It is created whether or not the number belongs
to a client (then `client` is empty and no message is sent), so the next page, the code check
and the rate limits behave the same for both and reveal nothing. The code is kept only as an
HMAC (keyed by the server's secret, not stored in the database; a six-digit code hashed without
a secret key would be reversed by trying all million); the phone number and the network address
are kept only as keyed hashes too, used to count requests for the rate limits.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models

from careledger.clients.models import Client
from careledger.institutions.models import Institution
from careledger.portal import rules


class PortalAccount(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_account"
    )
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="portal_account")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:  # ids only: this lands in logs
        return f"PortalAccount {self.id}"


class LoginChallenge(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    phone_key = models.CharField(max_length=64)
    ip_key = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    burnt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone_key", "created_at"], name="portal_chal_phone"),
            models.Index(fields=["ip_key", "created_at"], name="portal_chal_ip"),
        ]

    def __str__(self) -> str:
        return f"LoginChallenge {self.id}"

    def state(self, now: dt.datetime) -> str:
        """`rules.OPEN`, or why the code no longer works (used, burnt, expired)."""
        return rules.challenge_state(
            expires_at=self.expires_at, used_at=self.used_at, burnt_at=self.burnt_at, now=now
        )
