"""Configuring import sources (导入来源): name, format and, for CSV/XLSX, the column mapping.

Institution configuration, no one's data: `Action.EXAM_SOURCE_MANAGE` (the institution admin),
ledgered like every other change. The column mapping is validated by the parser's own
`ColumnMapping.from_dict`, so what the admin saves is exactly what the parser will accept, and
every problem comes back at once, per field.

A source's name is part of what it imported: report keys (de-duplication) and local code
mappings are keyed by it. A source that has imported files therefore keeps its name; renaming
it would make its next file import every report a second time and forget its code mappings.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.exams.models import ImportJob, ImportSource, SourceFormat
from careledger.exams.parsers.tabular import ColumnMapping, MappingError
from careledger.ledger import services as ledger

PURPOSE = "configuration"


class SourceInvalid(ValueError):
    """What is wrong with a source, field → English message (the form shows each by its field):
    "name", "format", and "mapping.<ColumnMapping field>" for the column mapping."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def check_source(
    *,
    actor: User,
    source: ImportSource | None,
    name: str,
    fmt: str,
    column_mapping: dict[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    """Validate; returns the cleaned name and the mapping to store ({} when none applies)."""
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = "a source needs a name"
    elif len(name) > 100:
        errors["name"] = "a source name has at most 100 characters"
    if fmt not in SourceFormat.values:
        errors["format"] = f"{fmt!r} is not a format (hl7v2, fhir, csv, xlsx or empty to detect)"
    clash = ImportSource.objects.filter(institution_id=actor.institution_id, name=name)
    if source is not None:
        clash = clash.exclude(pk=source.pk)
    if name and clash.exists():
        errors["name"] = "another source already has this name"
    if (
        source is not None
        and name
        and name != source.name
        and ImportJob.objects.filter(source=source).exists()
    ):
        errors["name"] = (
            "a source that has imported files keeps its name: its reports and code mappings "
            "are keyed by it"
        )
    mapping: dict[str, Any] = {}
    if column_mapping and fmt not in (SourceFormat.HL7V2, SourceFormat.FHIR):
        # Kept for CSV/XLSX, and for a detected format (which may turn out tabular); HL7 and
        # FHIR files name their own fields.
        try:
            mapping = ColumnMapping.from_dict(column_mapping).to_dict()
        except MappingError as exc:
            # Keyed apart from the source's own fields ("name" is also a mapping field).
            errors.update({f"mapping.{field}": message for field, message in exc.errors.items()})
    if errors:
        raise SourceInvalid(errors)
    return name, mapping


def do_save_source(
    *,
    actor: User,
    source_id: uuid.UUID | None = None,
    name: str,
    fmt: str = "",
    column_mapping: dict[str, Any] | None = None,
    is_active: bool = True,
) -> ImportSource:
    """Create a source (source_id None) or change one of the actor's institution."""
    require(actor, Action.EXAM_SOURCE_MANAGE, purpose=PURPOSE)
    with transaction.atomic():
        source = None
        if source_id is not None:
            source = ImportSource.objects.select_for_update().get(
                pk=source_id, institution_id=actor.institution_id
            )
        name, mapping = check_source(
            actor=actor, source=source, name=name, fmt=fmt, column_mapping=column_mapping
        )
        created = source is None
        if source is None:
            source = ImportSource(institution_id=actor.institution_id, created_by=actor)
        before = {"name": source.name, "format": source.format, "active": source.is_active}
        source.name = name
        source.format = fmt
        source.column_mapping = mapping
        source.is_active = is_active
        source.save()
        ledger.record(
            actor=actor_of(actor),
            action="exam.source.create" if created else "exam.source.update",
            purpose=PURPOSE,
            resource_type="ImportSource",
            resource_id=str(source.id),
            detail={
                "name": source.name,
                "format": fmt,
                "active": is_active,
                "mapped_columns": sorted(k for k, v in mapping.items() if v and k != "results"),
                "result_columns": len(mapping.get("results") or {}),
                **({} if created else {"before": before}),
            },
        )
    return source
