"""Demo risk assessments: the demo centre's China-PAR settings (a city south of the Yangtze,
like the demo clients' Hangzhou addresses) and one run of every model for every demo client,
through the same service as the nightly run (idempotent: a second seed writes nothing)."""

from __future__ import annotations

from careledger.assessment.services import assess_institution
from careledger.demo.seed import DEMO_CODE
from careledger.institutions.models import Institution


def seed_risks() -> dict[str, int]:
    institution = Institution.objects.get(code=DEMO_CODE)
    if institution.serves_north is None or institution.serves_urban is None:
        institution.serves_north = False
        institution.serves_urban = True
        institution.save(update_fields=["serves_north", "serves_urban", "updated_at"])
    summary = assess_institution(institution_id=institution.id)
    return {"clients": summary.clients, "written": summary.written}
