"""Shared data for the export tests, built through the product's own services: clients of both
care teams with check-up results and a manual tag, a research consent given at the desk, an
approver of the other institution."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from careledger.clients.models import Client
from observations.test_trends_data import write_report

SBP, FPG = "8480-6", "2345-7"


@pytest.fixture(autouse=True)
def _own_var_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.CARELEDGER_VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def eager(settings):  # type: ignore[no-untyped-def]
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def tag(world, client_id, code: str = "hypertension") -> None:  # type: ignore[no-untyped-def]
    from careledger.tagging.models import TagDefinition
    from careledger.tagging.services import TagInput, do_apply_manual_tag, do_create_tag

    definition = TagDefinition.objects.filter(institution=world.inst, code=code).first()
    if definition is None:
        definition = do_create_tag(
            actor=world.admin, data=TagInput(code=code, name_zh="高血压", category="disease")
        )
    do_apply_manual_tag(
        actor=world.manager, client_id=client_id, tag_id=definition.id, reason="体检复核后标注"
    )


class Cohort:
    """Twelve clients of team A (six with research consent), two of team B; results for all."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        from careledger.accounts.models import User

        self.world = world
        self.team_a: list[Client] = []
        self.team_b: list[Client] = []
        for i in range(12):
            enrolled = world.enrol(
                name=f"欧阳{'一二三四五六七八九十甲乙'[i]}",
                sex="M" if i % 2 else "F",
                birth_date=dt.date(1970 + i % 3, 3, 1 + i),
            )
            self.team_a.append(Client.objects.get(pk=enrolled.client_id))
        for i in range(2):
            enrolled = world.enrol(
                actor=world.manager_b, team=world.team_b, name=f"司马{'青衫'[i]}"
            )
            self.team_b.append(Client.objects.get(pk=enrolled.client_id))
        for n, c in enumerate(self.team_a + self.team_b):
            write_report(world.manager if c in self.team_a else world.manager_b, c.id,
                         dt.date(2025, 5, 1), [(SBP, str(120 + n)), (FPG, "5.6")])  # fmt: skip
            write_report(world.manager if c in self.team_a else world.manager_b, c.id,
                         dt.date(2026, 5, 1), [(SBP, str(130 + n))])  # fmt: skip
        tag(world, self.team_a[0].id)
        self.other_admin = User.objects.create_user(
            username="other_admin",
            password="x-Very-long-9",
            role="institution_admin",
            institution=world.other_inst,
            display_name="other_admin",
        )

    @property
    def secrets(self) -> list[str]:
        """What must never appear in a de-identified file."""
        out: list[str] = []
        for c in self.team_a + self.team_b:
            out += [c.name, c.phone, c.document_number, str(c.id), c.birth_date.isoformat()]
        return out

    def consent_research(self, clients: list[Client]) -> None:
        from careledger.consent import services as consent
        from careledger.consent import text_services

        draft = text_services.do_create_draft(
            actor=self.world.admin,
            purpose="research",
            title="科研使用知情同意书",
            body="本人同意将去标识化后的健康数据用于经伦理审查的科学研究。",
        )
        text = text_services.do_publish(actor=self.world.admin, text_id=draft.id)
        for c in clients:
            consent.do_record(
                actor=self.world.manager,
                client_id=c.id,
                text_id=text.id,
                method="paper",
                reference=f"纸质同意书 {uuid.uuid4().hex[:6]}",
            )


@pytest.fixture
def cohort(world):  # type: ignore[no-untyped-def]
    return Cohort(world)


def qi_scope(**extra):  # type: ignore[no-untyped-def]
    return {
        "purpose": "quality_improvement",
        "categories": ["observations", "tags"],
        "observation_codes": [SBP, FPG],
        "k": 2,
        **extra,
    }
