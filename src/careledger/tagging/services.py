"""Every write of the tagging app: tags and rule versions (the admin's configuration) and manual
tags (the care team's). Rule-applied tags are written by `evaluation.reevaluate` only.

Rules: a draft is validated on every save (the compiler's error, with its position, comes back
as `RuleInvalid`); publishing compiles it again, freezes it, retires the version it replaces and
re-evaluates the institution after commit; retiring removes the tags it applied (history: "the
rule was retired"). A published or retired version is never edited: a change is a new draft.

Manual tags: a care-team health manager or doctor applies or removes a tag with a reason (free
text, sealed under the client's key in the `TagEvent`); the event and the tag's state are sealed
in the ledger in the same transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careledger.access.enforce import actor_of, require
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.clients.validation import ValidationFailed
from careledger.ledger import services as ledger
from careledger.tagging import hooks, permissions, vocabulary
from careledger.tagging.models import (
    Category,
    ClientTag,
    Colour,
    Op,
    RuleStatus,
    Source,
    TagDefinition,
    TagEvent,
    TagRule,
    Why,
)
from careledger.tagging.rules import CompiledRule, RuleError, compile_rule

PURPOSE = "configuration"
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MIN_REASON = 2
MAX_REASON = 500
NOT_MANUAL = gettext_lazy(
    "Only a tag set by hand can be removed by hand; a rule's tag goes when the rule no longer"
    " fires."
)


class RuleInvalid(ValueError):
    """The rule does not compile: `error` says what and where."""

    def __init__(self, error: RuleError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class TagInput:
    code: str
    name_zh: str
    name_en: str = ""
    colour: str = Colour.BLUE
    category: str = Category.OTHER


def check_can_configure(*, actor: User) -> None:
    require(actor, permissions.CONFIGURE, purpose=PURPOSE)


def validate_expression(expression: str) -> CompiledRule:
    """The compiled rule, or RuleInvalid (pure: no database, no ledger)."""
    try:
        return compile_rule(expression, vocabulary.default())
    except RuleError as exc:
        raise RuleInvalid(exc) from None


def _tag(actor: User, tag_id: uuid.UUID) -> TagDefinition:
    return TagDefinition.objects.get(pk=tag_id, institution_id=actor.institution_id)


def _record_rule(actor: User, op: str, rule: TagRule | None, tag: TagDefinition) -> None:
    ledger.record(
        actor=actor_of(actor),
        action=f"{permissions.EV_RULE}.{op}",
        purpose=PURPOSE,
        resource_type="TagRule" if rule else "TagDefinition",
        resource_id=str(rule.id if rule else tag.id),
        detail={"tag": tag.code, **({"version": rule.version} if rule else {})},
    )


def _clean_tag(data: TagInput) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    code = data.code.strip().lower()
    if not _CODE.match(code):
        errors["code"] = [
            _("Use 2–40 lower-case letters, digits or underscores, e.g. hypertension.")
        ]
    name_zh = data.name_zh.strip()
    if not name_zh:
        errors["name_zh"] = [_("The Chinese name is required.")]
    if data.colour not in Colour.values:
        errors["colour"] = [_("Choose a colour.")]
    if data.category not in Category.values:
        errors["category"] = [_("Choose a category.")]
    if errors:
        raise ValidationFailed(errors)
    return {
        "code": code,
        "name_zh": name_zh[:40],
        "name_en": data.name_en.strip()[:60],
        "colour": data.colour,
        "category": data.category,
    }


def do_create_tag(*, actor: User, data: TagInput, expression: str = "") -> TagDefinition:
    """A new tag (and, when given, the first draft of its rule)."""
    check_can_configure(actor=actor)
    values = _clean_tag(data)
    if expression.strip():
        validate_expression(expression)
    with transaction.atomic():
        if TagDefinition.objects.filter(
            institution_id=actor.institution_id, code=values["code"]
        ).exists():
            raise ValidationFailed(
                {"code": [_("This institution already has a tag with this code.")]}
            )
        tag = TagDefinition.objects.create(
            institution_id=actor.institution_id, created_by=actor, **values
        )
        _record_rule(actor, "create_tag", None, tag)
        if expression.strip():
            _new_draft(actor, tag, expression)
    return tag


def do_update_tag(*, actor: User, tag_id: uuid.UUID, data: TagInput) -> TagDefinition:
    """Names, colour and category (the code is fixed: advice items refer to it)."""
    check_can_configure(actor=actor)
    with transaction.atomic():
        tag = TagDefinition.objects.select_for_update().get(
            pk=tag_id, institution_id=actor.institution_id
        )
        values = _clean_tag(
            TagInput(tag.code, data.name_zh, data.name_en, data.colour, data.category)
        )
        for name, value in values.items():
            setattr(tag, name, value)
        tag.save()
        _record_rule(actor, "update_tag", None, tag)
    return tag


def _new_draft(actor: User, tag: TagDefinition, expression: str, note: str = "") -> TagRule:
    version = (TagRule.objects.filter(tag=tag).aggregate(v=Max("version"))["v"] or 0) + 1
    rule = TagRule.objects.create(
        institution_id=tag.institution_id,
        tag=tag,
        version=version,
        expression=expression.strip(),
        status=RuleStatus.DRAFT,
        note=note.strip()[:200],
        author=actor,
    )
    _record_rule(actor, "draft", rule, tag)
    return rule


def do_save_draft(*, actor: User, tag_id: uuid.UUID, expression: str, note: str = "") -> TagRule:
    """Save the tag's draft (the one open draft is edited in place; else a new version)."""
    check_can_configure(actor=actor)
    validate_expression(expression)
    with transaction.atomic():
        tag = TagDefinition.objects.select_for_update().get(
            pk=tag_id, institution_id=actor.institution_id
        )
        draft = TagRule.objects.filter(tag=tag, status=RuleStatus.DRAFT).first()
        if draft is None:
            return _new_draft(actor, tag, expression, note)
        draft.expression = expression.strip()
        draft.note = note.strip()[:200]
        draft.author = actor
        draft.save()
        _record_rule(actor, "draft", draft, tag)
        return draft


def do_publish_rule(*, actor: User, rule_id: uuid.UUID) -> TagRule:
    """Publish a draft: it becomes the tag's rule (the previous version is retired) and every
    client of the institution is re-evaluated after commit."""
    check_can_configure(actor=actor)
    with transaction.atomic():
        rule = (
            TagRule.objects.select_for_update()
            .select_related("tag")
            .get(pk=rule_id, institution_id=actor.institution_id)
        )
        if rule.status != RuleStatus.DRAFT:
            raise ValidationFailed({"__all__": [_("Only a draft can be published.")]})
        compiled = validate_expression(rule.expression)
        now = timezone.now()
        TagRule.objects.filter(tag=rule.tag, status=RuleStatus.PUBLISHED).update(
            status=RuleStatus.RETIRED, retired_at=now, updated_at=now
        )
        rule.status = RuleStatus.PUBLISHED
        rule.facts = compiled.columns
        rule.published_at = now
        rule.published_by = actor
        rule.save()
        _record_rule(actor, "publish", rule, rule.tag)
        hooks.institution_changed(institution_id=rule.institution_id, trigger="rule_published")
    return rule


def do_retire_rule(*, actor: User, rule_id: uuid.UUID) -> TagRule:
    """Retire a published version (or discard a draft); the tags it applied are removed at the
    next evaluation, enqueued after commit."""
    check_can_configure(actor=actor)
    with transaction.atomic():
        rule = (
            TagRule.objects.select_for_update()
            .select_related("tag")
            .get(pk=rule_id, institution_id=actor.institution_id)
        )
        if rule.status == RuleStatus.RETIRED:
            return rule
        was_published = rule.status == RuleStatus.PUBLISHED
        rule.status = RuleStatus.RETIRED
        rule.retired_at = timezone.now()
        rule.save()
        _record_rule(actor, "retire", rule, rule.tag)
        if was_published:
            hooks.institution_changed(institution_id=rule.institution_id, trigger="rule_retired")
    return rule


# --- manual tags ---------------------------------------------------------------------------


def check_can_apply(*, actor: User, client_id: uuid.UUID) -> Client:
    client = Client.objects.get(pk=client_id)
    require(actor, permissions.APPLY, client_scope(client), purpose="care")
    return client


def _clean_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if len(text) < MIN_REASON:
        raise ValidationFailed(
            {"reason": [_("Say why (at least %(n)d characters).") % {"n": MIN_REASON}]}
        )
    return text[:MAX_REASON]


def _manual(*, actor: User, client: Client, tag: TagDefinition, op: str, reason: str) -> TagEvent:
    """Write one manual change (row lock on the client, as records does)."""
    now = timezone.now()
    Client.objects.select_for_update().only("id").get(pk=client.id)
    row = ClientTag.objects.filter(client=client, tag=tag, source=Source.MANUAL).first()
    if op == Op.APPLIED:
        if row is not None and row.active:
            raise ValidationFailed({"tag": [_("The client already carries this tag.")]})
        row = row or ClientTag(
            institution_id=client.institution_id, client=client, tag=tag, source=Source.MANUAL
        )
        row.active, row.applied_at, row.applied_by, row.removed_at = True, now, actor, None
    else:
        if row is None or not row.active:
            raise ValidationFailed({"tag": [str(NOT_MANUAL)]})
        row.active, row.removed_at = False, now
    row.save()
    event = TagEvent.objects.create(
        institution_id=client.institution_id,
        client=client,
        tag=tag,
        op=op,
        source=Source.MANUAL,
        why=Why.MANUAL,
        actor=actor,
        reason=reason,
        at=now,
    )
    ledger.record(
        actor=actor_of(actor),
        action=permissions.EV_APPLY if op == Op.APPLIED else permissions.EV_REMOVE,
        purpose="care",
        client_id=str(client.id),
        resource_type="Flag",
        resource_id=str(row.id),
        detail={"tag": str(tag.id)},
        sealed=[row, event],
    )
    return event


def do_apply_manual_tag(
    *, actor: User, client_id: uuid.UUID, tag_id: uuid.UUID, reason: str
) -> TagEvent:
    client = check_can_apply(actor=actor, client_id=client_id)
    text = _clean_reason(reason)
    with transaction.atomic():
        tag = TagDefinition.objects.get(
            pk=tag_id, institution_id=client.institution_id, is_active=True
        )
        return _manual(actor=actor, client=client, tag=tag, op=Op.APPLIED, reason=text)


def do_remove_manual_tag(
    *, actor: User, client_id: uuid.UUID, tag_id: uuid.UUID, reason: str
) -> TagEvent:
    client = check_can_apply(actor=actor, client_id=client_id)
    text = _clean_reason(reason)
    with transaction.atomic():
        tag = TagDefinition.objects.get(pk=tag_id, institution_id=client.institution_id)
        return _manual(actor=actor, client=client, tag=tag, op=Op.REMOVED, reason=text)
