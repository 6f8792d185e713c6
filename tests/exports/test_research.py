"""The de-identified research export: consented clients only (consent given and withdrawn through
careledger.consent), pseudonyms stable within a project and unlinkable across projects and
bulk exports, the project key never stored in the clear, k reported; the analyst sees no
identifier."""

from __future__ import annotations

import csv
import io

import pytest

from careledger.access.enforce import AccessDenied
from careledger.clients.validation import ValidationFailed
from careledger.exports import services, vault
from careledger.exports.models import ResearchProject, Status
from exports.conftest import SBP, qi_scope

pytestmark = pytest.mark.django_db
WHY = "高血压队列研究（伦理批件 2026-017）"


def research(world, project, actor=None, **extra):  # type: ignore[no-untyped-def]
    scope = {"purpose": "research", "project_id": str(project.id), "observation_codes": [SBP],
             "k": project.k, **extra}  # fmt: skip
    export = services.do_request_export(actor=actor or world.analyst, data=scope, justification=WHY)
    services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)
    return services.run_export(export.id)


def table(world, export, actor=None):  # type: ignore[no-untyped-def]
    data = services.do_download_export(
        actor=actor or world.analyst, request_id=export.id, mfa_fresh=True
    ).data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return rows[1], rows[2:], data.decode("utf-8-sig")


@pytest.fixture
def project(world):  # type: ignore[no-untyped-def]
    return services.do_create_project(actor=world.admin, code="htn-cohort", title="高血压队列", k=2)


def test_only_clients_with_research_consent_are_exported(world, cohort, project):
    consented = cohort.team_a[:6]
    cohort.consent_research(consented)
    done = research(world, project)
    assert done.status == Status.READY
    assert done.client_count == 6
    from careledger.ledger.models import LedgerEntry

    exported = set(
        LedgerEntry.objects.filter(action="export.client", leaf__contains=str(done.id)).values_list(
            "client_id", flat=True
        )
    )
    assert exported == {str(c.id) for c in consented}
    _header, rows, body = table(world, done)
    assert len(rows) == done.row_count == done.deid_report["rows_out"]
    assert done.deid_report["k_achieved"] >= 2
    assert f"achieved {done.deid_report['k_achieved']}" in body.splitlines()[0]
    assert not [s for s in cohort.secrets if s in body]


def test_withdrawn_consent_leaves_the_next_export(world, cohort, project):
    from careledger.consent import services as consent
    from careledger.consent.models import Consent

    cohort.consent_research(cohort.team_a[:6])
    first = research(world, project)
    gone = Consent.objects.get(client=cohort.team_a[0], purpose="research")
    consent.do_withdraw(actor=world.manager, consent_id=gone.id, method="paper", reference="撤回书")
    second = research(world, project)
    assert (first.client_count, second.client_count) == (6, 5)


def test_pseudonyms_are_stable_within_a_project_and_differ_elsewhere(world, cohort, project):
    cohort.consent_research(cohort.team_a)
    one = {r[0] for r in table(world, research(world, project))[1]}
    two = {r[0] for r in table(world, research(world, project))[1]}
    assert one == two and len(one) >= 10
    other = services.do_create_project(actor=world.admin, code="dm-cohort", title="糖尿病", k=2)
    three = {r[0] for r in table(world, research(world, other))[1]}
    assert not one & three
    bulk = services.do_request_export(actor=world.analyst, data=qi_scope(), justification=WHY)
    services.do_approve_export(actor=world.auditor, request_id=bulk.id, mfa_fresh=True)
    four = {r[0] for r in table(world, services.run_export(bulk.id))[1]}
    assert not one & four


def test_dates_are_shifted_consistently_within_a_project(world, cohort, project):
    cohort.consent_research(cohort.team_a)
    header, rows, _ = table(world, research(world, project))
    date_col = next(i for i, h in enumerate(header) if "日期" in h and "收缩压" in h)
    dates = {r[date_col] for r in rows}
    assert "2026-05-01" not in dates or len(dates) > 1  # not everyone on the real day
    _header2, rows2, _ = table(world, research(world, project))
    assert {r[0]: r[date_col] for r in rows} == {r[0]: r[date_col] for r in rows2}


def test_k_is_enforced_with_suppression_and_the_project_minimum_holds(world, cohort, project):
    cohort.consent_research(cohort.team_a)
    strict = services.do_create_project(actor=world.admin, code="strict", title="严格", k=5)
    with pytest.raises(ValidationFailed) as caught:
        research(world, strict, k=3)
    assert "k" in caught.value.errors
    done = research(world, strict)
    report = done.deid_report
    assert report["k_requested"] == 5
    assert report["rows_out"] == 0 or report["k_achieved"] >= 5
    assert report["rows_out"] + report["suppressed"] == 12


def test_the_project_key_is_stored_only_wrapped(world, project):
    row = ResearchProject.objects.get(pk=project.id)
    key = vault.project_key(row)
    assert len(key) == 32 and key not in bytes(row.key_wrapped)
    assert row.key_kek_id


@pytest.mark.parametrize("who", ["nurse", "manager", "auditor"])
def test_roles_without_research_export_are_refused(world, cohort, project, who):
    with pytest.raises(AccessDenied):
        research(world, project, actor=getattr(world, who))


@pytest.mark.parametrize("who", ["analyst", "doctor", "manager", "auditor"])
def test_only_the_admin_creates_projects(world, who):
    with pytest.raises(AccessDenied):
        services.do_create_project(actor=getattr(world, who), code="x-project", title="某项目")


def test_a_project_of_another_institution_cannot_be_named(world, cohort, project):
    from careledger.accounts.models import User

    other = User.objects.create_user(
        username="other_analyst",
        password="x-Very-long-9",
        role="analyst",
        institution=world.other_inst,
        display_name="x",
    )
    with pytest.raises(ValidationFailed) as caught:
        research(world, project, actor=other)
    assert "project_id" in caught.value.errors
