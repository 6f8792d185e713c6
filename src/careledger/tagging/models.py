"""Tags (自动设置标签): what a tag is, the rules that apply it, who carries it and why.

* `TagDefinition` — an institution's tag (code, Chinese and English name, colour, category).
  Configuration, no client data.
* `TagRule` — one version of the rule of a tag. Drafts are edited freely; publishing freezes the
  text (a published or retired version is never changed: the services refuse, and the facts a
  tag was applied on point at the version that fired). At most one published version per tag:
  publishing a new version retires the previous one.
* `ClientTag` — the current state: one row per (client, tag, source), `active` or not. A tag is
  shown when any of its rows is active (a rule and a person may both have applied it).
* `TagEvent` — the history, append-only: applied or removed, when, by whom (a user) or by which
  rule version, and the facts that fired it as coded data (the values of the facts the rule
  reads — numbers and codes keyed by the client's UUID, never an identifier). A manual tag's
  reason is free text, sealed under the client's key.

Every `ClientTag` and `TagEvent` write is sealed in the ledger by the services (row digests), so a
tag switched on or off behind the application's back is reported by `careledger ledger verify`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client, ClientSealed
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import Institution, TimeStamped


class Category(models.TextChoices):
    DISEASE = "disease", _("Condition")
    RISK = "risk", _("Risk")
    LIFESTYLE = "lifestyle", _("Lifestyle")
    FOLLOWUP = "followup", _("Follow-up")
    OTHER = "other", _("Other")


class Colour(models.TextChoices):
    """Chip colours (the palette's names; the stylesheet maps them)."""

    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")
    TEAL = "teal", _("Teal")
    BLUE = "blue", _("Blue")
    PURPLE = "purple", _("Purple")
    GREY = "grey", _("Grey")


class RuleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Source(models.TextChoices):
    RULE = "rule", _("Rule")
    MANUAL = "manual", _("Manual")


class Op(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REMOVED = "removed", _("Removed")


class Why(models.TextChoices):
    """Why an event happened (stable codes; the page words them)."""

    RULE_FIRED = "rule_fired", _("The rule fired")
    RULE_STOPPED = "rule_stopped", _("The rule no longer fires")
    RULE_RETIRED = "rule_retired", _("The rule was retired")
    MANUAL = "manual", _("Set by the care team")


class TagDefinition(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    name_zh = models.CharField(max_length=40)
    name_en = models.CharField(max_length=60, blank=True, default="")
    colour = models.CharField(max_length=8, choices=Colour.choices, default=Colour.BLUE)
    category = models.CharField(max_length=12, choices=Category.choices, default=Category.OTHER)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["category", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="tag_code_once")
        ]

    def __str__(self) -> str:
        return f"TagDefinition {self.code}"

    def name(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh


class TagRule(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    tag = models.ForeignKey(TagDefinition, on_delete=models.PROTECT, related_name="rules")
    version = models.PositiveIntegerField()
    expression = models.TextField()
    facts = models.JSONField(default=list)  # the fact columns the expression reads
    status = models.CharField(max_length=10, choices=RuleStatus.choices, default="draft")
    note = models.CharField(max_length=200, blank=True, default="")  # the author's change note
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tag", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["tag", "version"], name="tag_rule_version_once"),
            models.UniqueConstraint(
                fields=["tag"], condition=Q(status="published"), name="tag_rule_one_published"
            ),
        ]
        indexes = [models.Index(fields=["institution", "status"], name="tag_rule_status")]

    def __str__(self) -> str:
        return f"TagRule {self.id} v{self.version}"


class ClientTag(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(TagDefinition, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    rule = models.ForeignKey(
        TagRule, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )  # the version that last applied it (rule source)
    active = models.BooleanField(default=True)
    applied_at = models.DateTimeField()
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["client", "tag"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "tag", "source"], name="client_tag_once_per_source"
            )
        ]
        indexes = [
            models.Index(fields=["institution", "tag", "active"], name="client_tag_filter"),
            models.Index(fields=["client", "active"], name="client_tag_client"),
        ]

    def __str__(self) -> str:
        return f"ClientTag {self.id}"


class TagEvent(ClientSealed):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(TagDefinition, on_delete=models.PROTECT, related_name="+")
    op = models.CharField(max_length=8, choices=Op.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    why = models.CharField(max_length=14, choices=Why.choices)
    rule = models.ForeignKey(
        TagRule, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )  # a person (manual tags); null when the evaluator did it
    trigger = models.CharField(max_length=16, blank=True, default="")  # data_change / nightly / …
    facts = models.JSONField(default=dict)  # {fact column: value} the rule read (coded data)
    reason = EncryptedTextField(blank=True, default="")  # manual tags: why, sealed
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "id"]
        indexes = [models.Index(fields=["client", "at"], name="tag_event_client")]

    def __str__(self) -> str:
        return f"TagEvent {self.id}"
