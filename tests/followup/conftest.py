"""Follow-up fixtures, built through the services: consent texts and consents, a manual tag,
and plans created and published by the institution admin."""

from __future__ import annotations

import pytest

from careledger.consent import services as consent_services
from careledger.consent import text_services
from careledger.consent.purposes import Purpose
from careledger.followup import plan_services
from careledger.tagging import services as tag_services

PHONE_PLAN = {
    "trigger_kind": "tag",
    "trigger_params": {"tag": "htn"},
    "first_days": 0,
    "repeat_frequency": "monthly",
    "repeat_interval": 1,
    "repeat_count": 6,
    "channel": "phone",
    "script": "您好，我是健康管理中心的随访护士，请问最近血压怎么样？",
    "assignee_role": "nurse",
    "sla_hours": 48,
    "max_attempts": 3,
    "call_start": "00:00",
    "call_end": "23:59",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
}


class Follow:
    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.texts = {}
        for purpose in (Purpose.FOLLOWUP_PHONE, Purpose.FOLLOWUP_SMS):
            draft = text_services.do_create_draft(
                actor=world.admin, purpose=purpose.value, title="随访同意", body="本人同意随访。"
            )
            self.texts[purpose] = text_services.do_publish(actor=world.admin, text_id=draft.id)
        self.tag = tag_services.do_create_tag(
            actor=world.admin, data=tag_services.TagInput(code="htn", name_zh="高血压")
        )

    def consent(self, client_id, purpose=Purpose.FOLLOWUP_PHONE):  # type: ignore[no-untyped-def]
        return consent_services.do_record(
            actor=self.world.manager,
            client_id=client_id,
            text_id=self.texts[purpose].id,
            method="paper",
            reference="纸质同意书 2026-001",
        )

    def tag_client(self, client_id):  # type: ignore[no-untyped-def]
        tag_services.do_apply_manual_tag(
            actor=self.world.manager, client_id=client_id, tag_id=self.tag.id, reason="门诊确诊"
        )

    def untag_client(self, client_id):  # type: ignore[no-untyped-def]
        tag_services.do_remove_manual_tag(
            actor=self.world.manager, client_id=client_id, tag_id=self.tag.id, reason="误标"
        )

    def plan(self, code="htn-phone", **changes):  # type: ignore[no-untyped-def]
        version = plan_services.do_create_plan(
            actor=self.world.admin, code=code, name_zh="高血压随访", data={**PHONE_PLAN, **changes}
        )
        return plan_services.do_publish(actor=self.world.admin, version_id=version.id)


@pytest.fixture
def fu(world):  # type: ignore[no-untyped-def]
    return Follow(world)
