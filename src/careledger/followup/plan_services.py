"""Writing follow-up plans (随访方案): configuration by the institution admin, no client data.

A plan has versions. A draft is edited freely; publishing checks it once more (`plans.clean_plan`),
freezes it and retires the version that was published before (at most one published version per
plan, enforced by a constraint too). A published or retired version is never changed: a new
draft is started from it instead. Enrolments keep the version they began on (generation), so a
change reaches only clients enrolled after it. Every write is a ledger event (no client).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.validation import ValidationFailed
from careledger.followup.models import FollowupPlan, PlanStatus, PlanVersion
from careledger.followup.plans import PlanInvalid, PlanSpec, clean_plan
from careledger.ledger import services as ledger

FIELDS = (
    "trigger_kind",
    "trigger_params",
    "first_days",
    "repeat_frequency",
    "repeat_interval",
    "repeat_count",
    "channel",
    "script",
    "questionnaire_code",
    "assignee_role",
    "sla_hours",
    "max_attempts",
    "call_start",
    "call_end",
    "weekdays",
)


def _spec(data: Mapping[str, Any]) -> PlanSpec:
    try:
        return clean_plan(data)
    except PlanInvalid as exc:
        raise ValidationFailed({k: [v] for k, v in exc.errors.items()}) from None


def _apply(version: PlanVersion, spec: PlanSpec) -> None:
    version.trigger_kind = spec.trigger_kind
    version.trigger_params = spec.trigger_params
    version.first_days = spec.schedule.first_days
    version.repeat_frequency = spec.schedule.frequency
    version.repeat_interval = spec.schedule.interval
    version.repeat_count = spec.schedule.count
    version.rrule = spec.schedule.rrule_text()
    version.channel = spec.channel
    version.script = spec.script
    version.questionnaire_code = spec.questionnaire_code
    version.assignee_role = spec.assignee_role
    version.sla_hours = spec.sla_hours
    version.max_attempts = spec.max_attempts
    version.call_start = spec.call_start
    version.call_end = spec.call_end
    version.weekdays = list(spec.weekdays)


def as_data(version: PlanVersion) -> dict[str, Any]:
    """A version's values as `clean_plan` takes them (the edit form, a new draft)."""
    return {name: getattr(version, name) for name in FIELDS}


def _event(actor: User, op: str, version: PlanVersion) -> None:
    ledger.record(
        actor=actor_of(actor),
        action=f"followup.plan.{op}",
        resource_type="PlanDefinition",
        resource_id=str(version.id),
        detail={"plan": str(version.plan_id), "version": version.version},
    )


def do_create_plan(
    *, actor: User, code: str, name_zh: str, name_en: str = "", data: Mapping[str, Any]
) -> PlanVersion:
    require(actor, Action.FOLLOWUP_PLAN_MANAGE, purpose="configuration")
    errors: dict[str, list[str]] = {}
    code = code.strip().lower()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 40:
        errors["code"] = [_("Use letters, digits, - or _ (at most 40).")]
    if not name_zh.strip() or len(name_zh) > 60:
        errors["name_zh"] = [_("Give the plan a Chinese name (at most 60 characters).")]
    if errors:
        raise ValidationFailed(errors)
    spec = _spec(data)
    with transaction.atomic():
        try:
            with transaction.atomic():
                plan = FollowupPlan.objects.create(
                    institution_id=actor.institution_id,
                    code=code,
                    name_zh=name_zh.strip(),
                    name_en=name_en.strip(),
                    created_by=actor,
                )
        except IntegrityError:
            raise ValidationFailed({"code": [_("A plan with this code exists.")]}) from None
        version = PlanVersion(
            institution_id=actor.institution_id, plan=plan, version=1, author=actor
        )
        _apply(version, spec)
        version.save()
        _event(actor, "create", version)
    return version


def _own_version(actor: User, version_id: uuid.UUID) -> PlanVersion:
    require(actor, Action.FOLLOWUP_PLAN_MANAGE, purpose="configuration")
    return PlanVersion.objects.select_related("plan").get(
        pk=version_id, institution_id=actor.institution_id
    )


def do_update_draft(*, actor: User, version_id: uuid.UUID, data: Mapping[str, Any]) -> PlanVersion:
    version = _own_version(actor, version_id)
    spec = _spec(data)
    with transaction.atomic():
        version = PlanVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != PlanStatus.DRAFT:
            raise ValidationFailed({"version": [_("A published version cannot be changed.")]})
        _apply(version, spec)
        version.save()
        _event(actor, "update", version)
    return version


def do_new_draft(*, actor: User, plan_id: uuid.UUID) -> PlanVersion:
    """A draft copied from the plan's latest version (the way to change a published plan)."""
    require(actor, Action.FOLLOWUP_PLAN_MANAGE, purpose="configuration")
    plan = FollowupPlan.objects.get(pk=plan_id, institution_id=actor.institution_id)
    with transaction.atomic():
        latest = (
            PlanVersion.objects.select_for_update().filter(plan=plan).order_by("-version").first()
        )
        assert latest is not None
        if latest.status == PlanStatus.DRAFT:
            return latest
        draft = PlanVersion(
            institution_id=plan.institution_id, plan=plan, version=latest.version + 1, author=actor
        )
        _apply(draft, _spec(as_data(latest)))
        draft.save()
        _event(actor, "draft", draft)
    return draft


def do_publish(*, actor: User, version_id: uuid.UUID) -> PlanVersion:
    version = _own_version(actor, version_id)
    _spec(as_data(version))  # still valid as a whole
    now = timezone.now()
    with transaction.atomic():
        version = PlanVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != PlanStatus.DRAFT:
            raise ValidationFailed({"version": [_("Only a draft can be published.")]})
        previous = PlanVersion.objects.select_for_update().filter(
            plan_id=version.plan_id, status=PlanStatus.PUBLISHED
        )
        for old in previous:
            old.status, old.retired_at = PlanStatus.RETIRED, now
            old.save()
            _event(actor, "retire", old)
        version.status, version.published_at, version.published_by = "published", now, actor
        version.save()
        _event(actor, "publish", version)
    return version


def do_retire(*, actor: User, version_id: uuid.UUID) -> PlanVersion:
    """Stop enrolling into the plan. Clients already on it keep their schedule."""
    version = _own_version(actor, version_id)
    with transaction.atomic():
        version = PlanVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != PlanStatus.PUBLISHED:
            raise ValidationFailed({"version": [_("Only the published version can be retired.")]})
        version.status, version.retired_at = PlanStatus.RETIRED, timezone.now()
        version.save()
        _event(actor, "retire", version)
    return version
