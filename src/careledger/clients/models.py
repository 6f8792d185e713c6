"""The client registry: who the centre looks after, their membership card and care teams.

Direct identifiers (name, document number, phone, address, emergency contact, card number) are
sealed with the client's own data key (`data_key_owner`); equality search on document number,
phone, card number and exact name goes through per-institution blind indexes. Sex and birth date
stay in the clear as coded, pseudonymous data the risk models query. Every edit bumps `version`
and writes a `ClientRevision` holding the sealed snapshot, so history is kept and readable only
by those allowed to read the client.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.crypto.fields import EncryptedTextField
from careledger.crypto.models import KeyScope
from careledger.institutions.models import CareTeam, Institution, TimeStamped


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for HK/Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID")
    OTHER = "other", _("Other document")


class MembershipLevel(models.TextChoices):
    STANDARD = "standard", _("Standard card")
    SILVER = "silver", _("Silver card")
    GOLD = "gold", _("Gold card")
    PLATINUM = "platinum", _("Platinum card")
    DIAMOND = "diamond", _("Diamond card")


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    RELATIVE = "relative", _("Other relative")
    FRIEND = "friend", _("Friend")
    OTHER = "other", _("Other")


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    # Retention (careledger.retention): archived = kept and protected only, read with a stated
    # reason; anonymised = identifiers destroyed, coded data kept for statistics; erased = the
    # client's data key destroyed on an approved erasure request (crypto-shredding).
    ARCHIVED = "archived", _("Archived")
    ANONYMISED = "anonymised", _("Anonymised")
    ERASED = "erased", _("Erased")


class ClientSealed(models.Model):
    """Rows sealed under the client's own data key (crypto-shredding erases them all)."""

    class Meta:
        abstract = True

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.CLIENT, self.client_id  # type: ignore[attr-defined]


class Client(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="clients")
    name = EncryptedTextField()
    name_index = models.CharField(max_length=64, db_index=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    document_type = models.CharField(max_length=24, choices=DocumentType.choices)
    document_number = EncryptedTextField()
    document_index = models.CharField(max_length=64)
    phone = EncryptedTextField()
    phone_index = models.CharField(max_length=64)
    address = EncryptedTextField(blank=True, default="")
    emergency_contact_name = EncryptedTextField(blank=True, default="")
    emergency_contact_phone = EncryptedTextField(blank=True, default="")
    emergency_contact_relation = models.CharField(
        max_length=16, choices=Relation.choices, blank=True, default=""
    )
    status = models.CharField(max_length=16, choices=ClientStatus.choices, default="active")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    care_teams = models.ManyToManyField(CareTeam, through="ClientCareTeam", related_name="clients")

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "document_index"], name="client_unique_document"
            ),
            models.UniqueConstraint(
                fields=["institution", "phone_index"], name="client_unique_phone"
            ),
        ]
        indexes = [models.Index(fields=["institution", "created_at"], name="client_inst_created")]

    def __str__(self) -> str:  # never the name: this lands in logs and tracebacks
        return f"Client {self.id}"

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.CLIENT, self.id


class ArchiveAccess(models.Model):
    """A stated reason to read one archived client, for a while (retention; the policy's
    `archived_needs_reason`). The reason is sealed under the institution's key, not the
    client's, so that it survives an erasure of the client as part of the audit trail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="archive_accesses")
    reason = EncryptedTextField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="archive_access_user")]

    def __str__(self) -> str:
        return f"ArchiveAccess {self.id}"

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.INSTITUTION, self.institution_id


class ClientCareTeam(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_team_links")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="client_links")
    assigned_at = models.DateTimeField(auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["client", "care_team"]
        constraints = [
            models.UniqueConstraint(fields=["client", "care_team"], name="client_team_once")
        ]


class CardStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LOST = "lost", _("Reported lost")
    REPLACED = "replaced", _("Replaced")
    CANCELLED = "cancelled", _("Cancelled")


class MembershipCard(ClientSealed, TimeStamped):
    """A membership card (会员卡). The number carries a Luhn check digit and is unique per
    institution through its blind index."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="cards")
    number = EncryptedTextField()
    number_index = models.CharField(max_length=64)
    level = models.CharField(max_length=16, choices=MembershipLevel.choices)
    status = models.CharField(max_length=16, choices=CardStatus.choices, default="active")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "number_index"], name="card_unique_number"
            )
        ]


class ClientRevision(ClientSealed):
    """One version of a client's registry entry: who changed what, when, and the sealed values."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    changed_fields = models.JSONField(default=list)  # field names only, never values
    snapshot = EncryptedTextField()  # canonical JSON of the identity fields at this version
    reason = EncryptedTextField(blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["client", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["client", "version"], name="revision_once_per_version")
        ]
