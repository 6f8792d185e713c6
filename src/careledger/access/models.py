"""Break-glass grants (紧急访问授权).

A grant lets one clinical user read one client's record for a limited time although they are
not in the client's care teams. It exists for emergencies (the client collapses at the front desk
of another team), so it must be fast to obtain, but it is never silent: the reason is mandatory,
the grant and every read under it are in the ledger with the purpose "emergency", an alert is
raised at once, and an auditor must sign the grant off as justified or not.

The reason and the reviewer's note are free text that may mention the client's condition, so
they are sealed under the client's own data key (erasing the client erases them too). The client
is referenced by id, not by a foreign key: `access` sits below the client registry.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.crypto.fields import EncryptedTextField
from careledger.crypto.models import KeyScope
from careledger.institutions.models import Institution


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    JUSTIFIED = "justified", _("Justified")
    UNJUSTIFIED = "unjustified", _("Not justified")


class BreakGlassGrant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    client_id = models.UUIDField(db_index=True)
    reason = EncryptedTextField()
    minutes = models.PositiveSmallIntegerField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="break_glass_reviews",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="breakglass_user_expiry")]

    def __str__(self) -> str:  # ids only
        return f"break-glass {self.id} user={self.user_id} client={self.client_id}"

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.CLIENT, self.client_id
