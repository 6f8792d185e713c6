"""Demo consents (`careledger seed-demo`): a published text for every purpose, and desk
consents for most demo clients — health management and the separate sensitive-information
consent for all of them, SMS reminders for most, phone follow-up and research for some — so
that reminders, follow-up queues and research exports have a realistic consented population.
Idempotent: texts already published and consents already in force are left alone."""

from __future__ import annotations

import random

from careledger.accounts.models import User
from careledger.clients.validation import ValidationFailed
from careledger.consent import services, text_services
from careledger.consent.models import ConsentText, TextStatus
from careledger.consent.purposes import LABELS_ZH, Purpose
from careledger.institutions.models import CareTeam, Institution

BODIES = {
    Purpose.HEALTH_MANAGEMENT: (
        "本人同意康链示范健康管理中心为提供健康管理服务（建档、体检报告解读、健康评估"
        "与干预）处理本人的个人信息。"
    ),
    Purpose.SENSITIVE_PI: (
        "本人已知悉：健康生理信息属于敏感个人信息。处理的必要性：提供健康管理服务；对"
        "个人权益的影响：如泄露可能造成歧视或损害。本人单独同意中心为上述目的处理本人"
        "的健康信息。"
    ),
    Purpose.FOLLOWUP_PHONE: (
        "本人同意中心的健康管理团队通过电话对本人进行健康随访。本人可随时撤回。"
    ),
    Purpose.FOLLOWUP_SMS: (
        "本人同意中心通过短信向本人发送随访、体检预约提醒等通知。本人可随时撤回。"
    ),
    Purpose.FOLLOWUP_WECHAT: ("本人同意中心通过微信对本人进行健康随访。本人可随时撤回。"),
    Purpose.RESEARCH: (
        "本人同意本人的健康数据在去标识化后用于医学科研，科研人员无法识别本人。本人可随时撤回。"
    ),
}
# Share consents name a partner, so they are given per grant (careledger.sharing), not here.


def _texts(institution: Institution, admin: User) -> dict[Purpose, ConsentText]:
    out = {}
    for purpose, body in BODIES.items():
        text = ConsentText.objects.filter(
            institution=institution, purpose=purpose.value, status=TextStatus.PUBLISHED
        ).first()
        if text is None:
            draft = text_services.do_create_draft(
                actor=admin,
                purpose=purpose.value,
                title=f"{LABELS_ZH[purpose]}知情同意书",
                body=body,
            )
            text = text_services.do_publish(actor=admin, text_id=draft.id)
        out[purpose] = text
    return out


def seed_consents(
    institution: Institution,
    teams: dict[str, CareTeam],
    users: dict[str, User],
    enrollers: list[tuple[str, str]],
) -> int:
    texts = _texts(institution, users["admin"])
    rng = random.Random(7)
    given = 0
    for username, team_name in enrollers:
        clients = institution.clients.filter(care_team_links__care_team=teams[team_name]).order_by(
            "id"
        )
        for client_id in clients.values_list("id", flat=True)[:200]:
            wanted = [Purpose.HEALTH_MANAGEMENT, Purpose.SENSITIVE_PI]
            wanted += [
                p
                for p, share in (
                    (Purpose.FOLLOWUP_SMS, 0.85),
                    (Purpose.FOLLOWUP_PHONE, 0.6),
                    (Purpose.RESEARCH, 0.4),
                )
                if rng.random() < share
            ]
            for purpose in wanted:
                try:
                    services.do_record(
                        actor=users[username],
                        client_id=client_id,
                        text_id=texts[purpose].id,
                        method="paper",
                        reference=f"纸质同意书 DEMO-{rng.randrange(10**6):06d}",
                    )
                    given += 1
                except ValidationFailed:  # already in force from an earlier seed
                    pass
    return given
