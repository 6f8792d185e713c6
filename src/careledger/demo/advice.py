"""Demo advice (健康建议): the demo institution's catalogue loaded from the built-in file, and one
issued sheet for the portal demo client, through the real services (idempotent)."""

from __future__ import annotations

from careledger.accounts.models import User
from careledger.advice.catalogue_services import do_ensure_builtin
from careledger.advice.models import AdviceSheet
from careledger.advice.services import do_issue_sheet
from careledger.assessment.services import reassess_clients
from careledger.demo.seed import _institution

NOTE = "请按建议单坚持减盐和快走，下次体检前我们会电话随访。——王健康"


def seed_advice() -> dict[str, int]:
    """Load the catalogue (new built-in items only; the institution's edits are kept) and issue
    a sheet, once, to the earliest client of 慢病管理一组 (the portal demo client)."""
    institution, teams = _institution()
    loaded = do_ensure_builtin(institution_id=institution.id)
    client = (
        institution.clients.filter(care_team_links__care_team=teams["慢病管理一组"])
        .order_by("created_at", "id")
        .first()
    )
    issued = 0
    if client is not None and not AdviceSheet.objects.filter(client=client).exists():
        # The risk levels the sheet rests on, from the client's demo check-ups (idempotent).
        reassess_clients(institution_id=institution.id, client_ids=[str(client.id)])
        manager = User.objects.get(username="manager")
        do_issue_sheet(actor=manager, client_id=client.id, note=NOTE)
        issued = 1
    return {"items_added": loaded.created, "sheets_issued": issued}
