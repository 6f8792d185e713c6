"""Population reads of the observation store as polars frames: the latest results per client and
indicator, and each client's highest result ever, for engines that evaluate many clients at once
(risk models, tag rules, benchmarks).

Internal: no access check and no ledger event here. Callers are services that authorised their
own institution-level work and never hand these frames out. One query each, whatever the number
of clients (a window function, which SQLite ≥ 3.25 and PostgreSQL both run, served by the
`obs_population` index); values come back as floats in the catalogue's canonical unit, only
current (not superseded) numeric results.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import polars as pl
from django.db.models import F, FloatField, Max, Window
from django.db.models.functions import Cast, RowNumber

from careledger.observations.models import Observation

LATEST_SCHEMA = {
    "client_id": pl.Utf8,
    "code": pl.Utf8,
    "rank": pl.Int32,
    "value": pl.Float64,
    "effective_at": pl.Datetime("us", "UTC"),
}
MAX_SCHEMA = {"client_id": pl.Utf8, "code": pl.Utf8, "value": pl.Float64}


def _current(
    institution_id: uuid.UUID | str,
    codes: Sequence[str],
    client_ids: Sequence[uuid.UUID | str] | None,
):  # type: ignore[no-untyped-def]
    rows = Observation.objects.filter(
        institution_id=institution_id, is_current=True, code__in=list(codes), value__isnull=False
    )
    if client_ids is not None:
        rows = rows.filter(client_id__in=[str(c) for c in client_ids])
    return rows.order_by()


def _frame(rows, schema: dict) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    columns: dict[str, list] = {name: [] for name in schema}
    names = list(schema)
    for row in rows.iterator(chunk_size=10000):
        for name, value in zip(names, row, strict=True):
            columns[name].append(str(value) if name == "client_id" else value)
    return pl.DataFrame(columns, schema=schema)


def latest_values(
    *,
    institution_id: uuid.UUID | str,
    codes: Sequence[str],
    client_ids: Sequence[uuid.UUID | str] | None = None,
    per_code: int = 1,
) -> pl.DataFrame:
    """The `per_code` most recent results of each code for each client: columns client_id,
    code, rank (1 = latest, 2 = the one before, …), value, effective_at."""
    if not codes:
        return pl.DataFrame(schema=LATEST_SCHEMA)
    rows = (
        _current(institution_id, codes, client_ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("client_id"), F("code")],
                order_by=[F("effective_at").desc(), F("id").desc()],
            ),
            number=Cast("value", FloatField()),
        )
        .filter(rank__lte=per_code)
        .values_list("client_id", "code", "rank", "number", "effective_at")
    )
    return _frame(rows, LATEST_SCHEMA)


def highest_values(
    *,
    institution_id: uuid.UUID | str,
    codes: Sequence[str],
    client_ids: Sequence[uuid.UUID | str] | None = None,
) -> pl.DataFrame:
    """Each client's highest current result ever of each code: client_id, code, value."""
    if not codes:
        return pl.DataFrame(schema=MAX_SCHEMA)
    rows = (
        _current(institution_id, codes, client_ids)
        .values("client_id", "code")
        .annotate(highest=Cast(Max("value"), FloatField()))
        .values_list("client_id", "code", "highest")
    )
    return _frame(rows, MAX_SCHEMA)
