"""Follow-up (自动随访 · 随访记录): plans, the enrolments of clients into them, the tasks the
scheduler generates, the records of each attempt, and the click-to-call requests.

* `FollowupPlan` / `PlanVersion` — configuration (no client data), kept by the institution
  admin. A version is edited while a draft; publishing freezes it (the services refuse any
  change) and retires the previous published version. An enrolment keeps the version it started
  on, so a plan changed later never rewrites the schedule a client is already on.
* `Enrolment` — one client on one plan version from one trigger occurrence (`anchor_date`: the
  day the tag was applied, the result or check-up dated, the risk assessed, the client
  enrolled). At most one per (client, plan, anchor): a trigger that stays true never enrols the
  client again after the plan ended, and a trigger that clears and comes back starts afresh.
* `FollowupTask` — one scheduled contact: the occurrence number in the plan's schedule, the
  date the schedule gave (`due_date`) and the working day it was moved to (`scheduled_date`,
  out of weekends and public holidays), the call window (`not_before`, quiet hours excluded),
  the SLA deadline (`due_by`), who holds it and whether it was escalated. Tasks are work items
  about a client: coded data keyed by the client's UUID, every write ledgered and sealed.
* `FollowupRecord` — what happened at one attempt (随访记录): an outcome code, the next action,
  the questionnaire response filled during the call, and a free-text note sealed under the
  client's own key. Versioned: a correction writes version n+1 and keeps version n.
* `CallRequest` — a request to the click-to-call gateway; it holds no number (the gateway
  decrypts the client's phone server-side, inside the call) and no free text.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client, ClientSealed
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import CareTeam, Institution, TimeStamped


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")


class TriggerKind(models.TextChoices):
    TAG = "tag", _("Tag applied")
    ABNORMAL = "abnormal_result", _("Abnormal result")
    RISK = "risk_level", _("Risk level")
    ENROLMENT = "enrolment", _("Enrolment")
    CHECKUP = "checkup", _("After a check-up")
    SCORE = "questionnaire_score", _("Questionnaire score")


class Frequency(models.TextChoices):
    NONE = "none", _("No repeats")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class AssigneeRole(models.TextChoices):
    NURSE = "nurse", _("Follow-up nurse")
    HEALTH_MANAGER = "health_manager", _("Health manager")
    DOCTOR = "doctor", _("Doctor")


class FollowupPlan(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    name_zh = models.CharField(max_length=60)
    name_en = models.CharField(max_length=80, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="followup_plan_code_once")
        ]

    def __str__(self) -> str:
        return f"FollowupPlan {self.code}"

    def name(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh


class PlanVersion(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(FollowupPlan, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default="draft")
    trigger_kind = models.CharField(max_length=24, choices=TriggerKind.choices)
    # Kind-specific, validated by `plans.clean_trigger`: {"tag": code} · {"code": LOINC} ·
    # {"model": id, "levels": [...]} · {"within_days": n} · {"instrument": code, "min_score": x}
    trigger_params = models.JSONField(default=dict)
    first_days = models.PositiveIntegerField(default=7)  # first contact: anchor + n days
    repeat_frequency = models.CharField(max_length=8, choices=Frequency.choices, default="none")
    repeat_interval = models.PositiveIntegerField(default=1)
    repeat_count = models.PositiveIntegerField(default=0)  # repeats after the first contact
    rrule = models.CharField(max_length=120, blank=True, default="")  # RFC 5545, for display
    channel = models.CharField(max_length=8, choices=Channel.choices)
    script = models.TextField(blank=True, default="")  # configuration text, no client data
    questionnaire_code = models.CharField(max_length=40, blank=True, default="")
    assignee_role = models.CharField(max_length=16, choices=AssigneeRole.choices)
    sla_hours = models.PositiveIntegerField(default=48)  # from the window's opening
    max_attempts = models.PositiveIntegerField(default=3)  # failed in a row → lost to follow-up
    call_start = models.TimeField()  # quiet hours are outside [call_start, call_end)
    call_end = models.TimeField()
    weekdays = models.JSONField(default=list)  # ISO weekdays contacts are made on
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="followup_version_once"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(status="published"), name="followup_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"PlanVersion {self.id} v{self.version}"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    LOST = "lost", _("Lost to follow-up")
    ENDED = "ended", _("Ended")


class Enrolment(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(FollowupPlan, on_delete=models.PROTECT, related_name="+")
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="+", null=True)
    anchor_date = models.DateField()
    started_on = models.DateField()  # occurrences before this day are not materialised
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default="active")
    failed_attempts = models.PositiveIntegerField(default=0)  # in a row
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=24, blank=True, default="")

    class Meta:
        ordering = ["client", "plan", "-anchor_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "plan", "anchor_date"], name="followup_enrol_once_per_anchor"
            ),
            models.UniqueConstraint(
                fields=["client", "plan"],
                condition=Q(status="active"),
                name="followup_one_active_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["plan", "status"], name="followup_enrol_plan")]

    def __str__(self) -> str:
        return f"Enrolment {self.id}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Claimed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


class FollowupTask(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="tasks")
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="+", null=True)
    seq = models.PositiveIntegerField()
    channel = models.CharField(max_length=8, choices=Channel.choices)
    due_date = models.DateField()  # what the schedule said (Asia/Shanghai)
    scheduled_date = models.DateField()  # the working day it was moved to
    shift_reason = models.CharField(max_length=24, blank=True, default="")
    not_before = models.DateTimeField()  # the call window opens (quiet hours before)
    window_end = models.DateTimeField()  # … and closes
    due_by = models.DateTimeField()  # SLA deadline; later → overdue, escalated
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default="open")
    assignee_role = models.CharField(max_length=16, choices=AssigneeRole.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=24, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["scheduled_date", "due_by", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "seq"], name="followup_task_once")
        ]
        indexes = [
            models.Index(
                fields=["care_team", "status", "scheduled_date"], name="followup_task_team"
            ),
            models.Index(fields=["assignee", "status"], name="followup_task_assignee"),
            models.Index(fields=["client", "status"], name="followup_task_client"),
            models.Index(fields=["status", "due_by"], name="followup_task_sla"),
        ]

    def __str__(self) -> str:
        return f"FollowupTask {self.id}"


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Line busy")
    UNREACHABLE = "unreachable", _("Switched off / unreachable")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALLBACK = "callback", _("Asked to be called back")
    REFUSED = "refused", _("Refused follow-up")
    DECEASED = "deceased", _("Deceased")


class NextAction(models.TextChoices):
    NONE = "none", _("Nothing further")
    RETRY = "retry", _("Try again")
    RESCHEDULE = "reschedule", _("Follow up on a date")
    ESCALATE = "escalate", _("Hand to the team lead")
    END_PLAN = "end_plan", _("End this follow-up plan")


class FollowupRecord(ClientSealed):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(FollowupTask, on_delete=models.CASCADE, related_name="records")
    attempt = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    next_action = models.CharField(max_length=12, choices=NextAction.choices)
    next_date = models.DateField(null=True, blank=True)
    questionnaire_response_id = models.UUIDField(null=True, blank=True)
    note = EncryptedTextField(blank=True, default="")  # sealed under the client's key
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["client", "-recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "attempt", "version"], name="followup_record_version_once"
            ),
            models.UniqueConstraint(
                fields=["task", "attempt"],
                condition=Q(is_current=True),
                name="followup_record_one_current",
            ),
        ]
        indexes = [models.Index(fields=["client", "recorded_at"], name="followup_record_client")]

    def __str__(self) -> str:
        return f"FollowupRecord {self.id} v{self.version}"


class CallRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(FollowupTask, on_delete=models.CASCADE, related_name="calls")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    backend = models.CharField(max_length=24)
    status = models.CharField(max_length=16)  # queued / ringing / failed (the backend's word)
    provider_ref = models.CharField(max_length=64, blank=True, default="")
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["-requested_at", "id"]

    def __str__(self) -> str:
        return f"CallRequest {self.id}"
