"""Risk levels as facts for other engines (tag rules, advice), one frame for a population.

Internal: no access check and no ledger event here. The callers are services that have
authorised their own work (the tag engine evaluating an institution's rules, the advice sheet of
a client the actor may see); they must not hand these frames to anyone directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import polars as pl
from django.db import connection

from careledger.assessment.models import Outcome, RiskAssessment
from careledger.observations.population import SQLITE_TIME, uuid_text

RISK_SCHEMA = {
    "client_id": pl.Utf8,
    "model": pl.Utf8,
    "value": pl.Float64,
    "level": pl.Utf8,
    "assessed_at": pl.Datetime("us", "UTC"),
}


def latest_risks(
    *, institution_id: uuid.UUID | str, client_ids: Sequence[uuid.UUID | str] | None = None
) -> pl.DataFrame:
    """Each client's current assessment per model (only models that gave a result): columns
    client_id (str UUID), model (model id), value (Float64 or null), level (stable level code),
    assessed_at (UTC). One query (per 500 clients), served by the `risk_population` index (or
    the per-client one); plain rows into polars, not model values, since a population run
    reads a million of them."""
    if client_ids is not None and not client_ids:
        return pl.DataFrame(schema=RISK_SCHEMA)
    postgres = connection.vendor == "postgresql"
    table = RiskAssessment._meta.db_table
    key = RiskAssessment._meta.get_field("client").target_field
    if postgres:
        columns = (
            "client_id::text, model_id, value::double precision, level, "
            "(EXTRACT(EPOCH FROM assessed_at) * 1000000)::bigint"
        )
        current = "is_current"
    else:  # expressions, so that Django's SQLite connection does not convert by column type
        columns = "client_id, model_id, CAST(value AS REAL), level, CAST(assessed_at AS TEXT)"
        current = "is_current = 1"
    sql = (
        f"SELECT {columns} FROM {table} WHERE {{scope}} AND {current} "  # noqa: S608
        "AND outcome = %s"
    )
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        if client_ids is None:
            scope = "institution_id = %s"
            params = [key.get_db_prep_value(uuid.UUID(str(institution_id)), connection)]
            cursor.execute(sql.format(scope=scope), [*params, Outcome.ASSESSED])
            rows = cursor.fetchall()
        else:
            ids = [key.get_db_prep_value(uuid.UUID(str(c)), connection) for c in client_ids]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                scope = f"client_id IN ({', '.join(['%s'] * len(chunk))})"
                cursor.execute(sql.format(scope=scope), [*chunk, Outcome.ASSESSED])
                rows.extend(cursor.fetchall())
    if not rows:
        return pl.DataFrame(schema=RISK_SCHEMA)
    when_type = pl.Int64 if postgres else pl.Utf8
    frame = pl.DataFrame(
        rows,
        schema={
            "client_id": pl.Utf8,
            "model": pl.Utf8,
            "value": pl.Float64,
            "level": pl.Utf8,
            "assessed_at": when_type,
        },
        orient="row",
    )
    if postgres:
        return frame.with_columns(pl.col("assessed_at").cast(RISK_SCHEMA["assessed_at"]))
    return frame.with_columns(
        uuid_text(pl.col("client_id")),
        pl.col("assessed_at").str.to_datetime(SQLITE_TIME, time_unit="us", time_zone="UTC"),
    )
