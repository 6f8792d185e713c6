"""Writes to the observation store that are not an import: mapping a source's local codes to
catalogue entries (an admin's configuration; codes only, no one's results)."""

from __future__ import annotations

from django.db import transaction

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.ledger import services as ledger
from careledger.observations import catalogue
from careledger.observations.models import LocalCode


class MappingRefused(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def do_map_local_code(
    *, actor: User, source_name: str, local_code: str, code: str, local_name: str = ""
) -> LocalCode:
    """Say that `local_code` from `source_name` means catalogue entry `code` (replacing an
    earlier mapping of it)."""
    require(actor, Action.CATALOGUE_MAP, purpose="configuration")
    local_code = local_code.strip()
    if not local_code:
        raise MappingRefused("local_code", "the source's code is required")
    indicator = catalogue.find(code.strip())
    if indicator is None:
        raise MappingRefused("code", f"{code!r} is not a catalogue code")
    with transaction.atomic():
        row, _created = LocalCode.objects.update_or_create(
            institution_id=actor.institution_id,
            source_name=source_name.strip(),
            local_code=local_code,
            defaults={
                "code": indicator.code,
                "local_name": local_name.strip()[:100],
                "mapped_by": actor,
            },
        )
        ledger.record(
            actor=actor_of(actor),
            action="catalogue.map",
            purpose="configuration",
            resource_type="LocalCode",
            resource_id=str(row.id),
            detail={"source": row.source_name, "local_code": local_code, "code": indicator.code},
        )
    return row


def do_unmap_local_code(*, actor: User, mapping_id: object) -> None:
    require(actor, Action.CATALOGUE_MAP, purpose="configuration")
    with transaction.atomic():
        row = LocalCode.objects.get(pk=mapping_id, institution_id=actor.institution_id)
        ledger.record(
            actor=actor_of(actor),
            action="catalogue.unmap",
            purpose="configuration",
            resource_type="LocalCode",
            resource_id=str(row.id),
            detail={"source": row.source_name, "local_code": row.local_code, "code": row.code},
        )
        row.delete()
