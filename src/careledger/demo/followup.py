"""Demo follow-up (自动随访): the plans a centre starts with, the consents they need, a run of
the scheduler, and a few performed calls — all through the real services, after the tags the
plans are triggered by (`demo.tagging`). Idempotent: plans that exist are left as they are,
consents already in force are not recorded again, and the scheduler writes nothing twice.

Plans (the admin writes and publishes them):
* 高血压随访 — tag `hypertension`: day 7, then monthly × 6, by phone, the nurse, SLA 48 h;
* 糖尿病前期 — tag `prediabetes`: day 14, then quarterly × 3, by phone;
* 新客户欢迎 — enrolment in the last 30 days: a welcome call on day 3.
Most demo clients (4 in 5) consented to phone follow-up at the desk; the others get no task.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from careledger.access.enforce import team_ids
from careledger.accounts.models import User
from careledger.clients.models import Client, ClientCareTeam
from careledger.consent import services as consent_services
from careledger.consent import text_services
from careledger.consent.models import Consent, ConsentText
from careledger.followup import generation, plan_services, services
from careledger.followup.models import FollowupPlan, FollowupRecord, FollowupTask

SCRIPT_HTN = (
    "您好，我是康链健康管理中心的随访护士。请问您最近血压控制得怎么样？"
    "有没有按时服药？有没有头晕、胸闷等不适？请告诉我最近一次测量的血压值。"
)
SCRIPT_PRE = (
    "您好，这里是康链健康管理中心。想了解一下您最近的饮食和运动情况，"
    "以及最近一次空腹血糖的结果。建议三个月内复查空腹血糖和糖化血红蛋白。"
)
SCRIPT_NEW = (
    "您好，欢迎成为康链健康管理中心的会员！我是您的随访护士，"
    "想和您确认一下联系方式和方便接听电话的时间。"
)

COMMON = {
    "channel": "phone",
    "assignee_role": "nurse",
    "sla_hours": 48,
    "max_attempts": 3,
    "call_start": "09:00",
    "call_end": "20:00",
    "weekdays": [1, 2, 3, 4, 5],
}
PLANS = [
    (
        "hypertension-phone",
        "高血压随访",
        "Hypertension follow-up",
        {
            "trigger_kind": "tag",
            "trigger_params": {"tag": "hypertension"},
            "first_days": 7,
            "repeat_frequency": "monthly",
            "repeat_interval": 1,
            "repeat_count": 6,
            "script": SCRIPT_HTN,
        },
    ),
    (
        "prediabetes-quarterly",
        "糖尿病前期",
        "Prediabetes follow-up",
        {
            "trigger_kind": "tag",
            "trigger_params": {"tag": "prediabetes"},
            "first_days": 14,
            "repeat_frequency": "monthly",
            "repeat_interval": 3,
            "repeat_count": 3,
            "script": SCRIPT_PRE,
        },
    ),
    (
        "welcome-call",
        "新客户欢迎",
        "Welcome call",
        {
            "trigger_kind": "enrolment",
            "trigger_params": {"within_days": 30},
            "first_days": 3,
            "script": SCRIPT_NEW,
        },
    ),
]


def _phone_text(admin: User) -> ConsentText:
    text = ConsentText.objects.filter(
        institution_id=admin.institution_id, purpose="followup_phone", status="published"
    ).first()
    if text is None:
        draft = text_services.do_create_draft(
            actor=admin,
            purpose="followup_phone",
            title="电话随访知情同意书",
            body="本人同意康链健康管理中心通过电话对本人进行健康随访，并可随时撤回。",
        )
        text = text_services.do_publish(actor=admin, text_id=draft.id)
    return text


def seed_followup() -> dict[str, int]:
    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="manager")
    nurse = User.objects.get(username="nurse")
    plans = 0
    for code, name_zh, name_en, data in PLANS:
        if FollowupPlan.objects.filter(institution_id=admin.institution_id, code=code).exists():
            continue
        version = plan_services.do_create_plan(
            actor=admin, code=code, name_zh=name_zh, name_en=name_en, data={**COMMON, **data}
        )
        plan_services.do_publish(actor=admin, version_id=version.id)
        plans += 1
    text = _phone_text(admin)
    consenting = set(
        Consent.objects.filter(purpose="followup_phone", withdrawn_at__isnull=True).values_list(
            "client_id", flat=True
        )
    )
    consents = 0
    managers = [manager, User.objects.get(username="manager2")]
    team_of = {t: m for m in managers for t in team_ids(m)}
    teams_by_client: dict[object, list[object]] = {}
    links = ClientCareTeam.objects.filter(client__institution_id=admin.institution_id)
    for client_id, team_id in links.values_list("client_id", "care_team_id"):
        teams_by_client.setdefault(client_id, []).append(team_id)
    clients = Client.objects.filter(institution_id=admin.institution_id, status="active")
    for n, client_id in enumerate(clients.order_by("id").values_list("id", flat=True)):
        if n % 5 == 4 or client_id in consenting:
            continue
        actor = next((team_of[t] for t in teams_by_client.get(client_id, []) if t in team_of), None)
        if actor is None:
            continue
        consent_services.do_record(
            actor=actor,
            client_id=client_id,
            text_id=text.id,
            method="paper",
            reference=f"随访同意书 {n:04d}",
        )
        consents += 1
    # The demo shows a queue with work in it: tasks up to the next four weeks.
    run = generation.generate_institution(institution_id=admin.institution_id, horizon=28)
    performed = 0
    already = FollowupRecord.objects.filter(institution_id=admin.institution_id).exists()
    open_tasks = FollowupTask.objects.filter(
        institution_id=admin.institution_id, status="open", care_team__memberships__user=nurse
    ).order_by("scheduled_date", "id")
    for task, (outcome, note) in zip(
        [] if already else open_tasks[:3],
        [
            ("reached", "血压 138/86 mmHg，按时服药，无不适。建议低盐饮食。"),
            ("no_answer", ""),
            ("callback", "客户在开会，约明天下午再联系。"),
        ],
        strict=False,
    ):
        services.do_claim(actor=nurse, task_id=task.id)
        next_date = timezone.localdate() + dt.timedelta(days=1) if outcome == "callback" else None
        services.do_record_outcome(
            actor=nurse,
            task_id=task.id,
            data=services.OutcomeInput(
                outcome=outcome,
                next_action="reschedule" if outcome == "callback" else "none",
                next_date=next_date,
                note=note,
            ),
        )
        performed += 1
    return {
        "plans_published": plans,
        "consents": consents,
        "enrolled": run.enrolled,
        "tasks": run.tasks,
        "performed": performed,
    }
