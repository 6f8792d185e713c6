"""Questionnaire scores as population facts, for the tag rules and the advice engine.

INTERNAL: no access check and no ledger event inside. These functions read pseudonymous coded
scores (no names, no free text) for whole populations; callers are services that have already
authorised their own work (a tag-rule evaluation, an advice sheet) and ledger it themselves.
Never call them from a view.

`latest_scores` is one SQL query over `ResponseScore` rows marked `is_latest` (the services keep
exactly one per client and instrument: the newest completed response's), served by the partial
index `q_score_latest`; ids, scores and times are converted in SQL, so the rows go straight into
polars without a per-row Python step. A `client_ids` list longer than `CHUNK` is read in chunks
of that size (database parameter limits), still without a query per client.

Columns (all instruments in one long frame):

| column | type | what |
|---|---|---|
| `client_id` | Utf8 | the client's UUID, canonical text form |
| `instrument` | Utf8 | "phq9", "phq9_item9", "gad7", "tcm:<code>" (`tcm.CONSTITUTIONS`), … |
| `score` | Float64 | total score; for TCM the conversion score (0–100) |
| `band` | Utf8 | stable code (below) |
| `answered_at` | Datetime(us, UTC) | when that response was submitted |

Bands: phq9 minimal / mild / moderate / moderately_severe / severe (0–4, 5–9, 10–14, 15–19,
20–27); gad7 minimal / mild / moderate / severe (0–4, 5–9, 10–14, 15–21); phq9_item9 negative /
positive (item 9 > 0: needs a clinician); TCM yes / basically_yes (平和质 only) / tendency / no.
A custom questionnaire's scores appear under their own codes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import polars as pl
from django.db import connection

from careledger.questionnaires import tcm
from careledger.questionnaires.models import ResponseScore

CHUNK = 900
SCHEMA = {
    "client_id": pl.Utf8,
    "instrument": pl.Utf8,
    "score": pl.Float64,
    "band": pl.Utf8,
    "answered_at": pl.Datetime("us", "UTC"),
}


def _sql(with_clients: int) -> str:
    table = ResponseScore._meta.db_table
    if connection.vendor == "postgresql":
        client = "client_id::text"
        score = "score::float8"
    else:  # SQLite keeps UUIDs as 32 hex digits: dash them here, not row by row in Python
        client = (
            "substr(client_id,1,8)||'-'||substr(client_id,9,4)||'-'||substr(client_id,13,4)"
            "||'-'||substr(client_id,17,4)||'-'||substr(client_id,21,12)"
        )
        score = "CAST(score AS REAL)"
    where = "institution_id = %s AND is_latest"
    if with_clients:
        where += f" AND client_id IN ({', '.join(['%s'] * with_clients)})"
    return (
        f"SELECT {client}, instrument, {score}, band, answered_at "  # noqa: S608 (no user text)
        f"FROM {table} WHERE {where}"
    )


def _param(value: uuid.UUID | str) -> str:
    parsed = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return str(parsed) if connection.vendor == "postgresql" else parsed.hex


def _fetch(institution_id: uuid.UUID | str, client_ids: Sequence[str] | None) -> list[tuple]:
    inst = _param(institution_id)
    with connection.cursor() as cursor:
        if client_ids is None:
            cursor.execute(_sql(0), [inst])
            return cursor.fetchall()
        rows: list[tuple] = []
        ids = [_param(c) for c in client_ids]
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            cursor.execute(_sql(len(part)), [inst, *part])
            rows.extend(cursor.fetchall())
        return rows


def latest_scores(
    *, institution_id: uuid.UUID | str, client_ids: list[str] | None = None
) -> pl.DataFrame:
    """One row per (client, instrument score) of each client's latest completed response.
    Internal: no access check inside (see the module docstring)."""
    if client_ids is not None and not client_ids:
        return pl.DataFrame(schema=SCHEMA)
    rows = _fetch(institution_id, client_ids)
    if not rows:
        return pl.DataFrame(schema=SCHEMA)
    frame = pl.DataFrame(
        rows,
        schema=["client_id", "instrument", "score", "band", "answered_at"],
        orient="row",
    )
    when = frame.get_column("answered_at")
    if when.dtype == pl.Utf8:  # SQLite: ISO text in UTC
        when = when.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
    elif isinstance(when.dtype, pl.Datetime):
        when = when.dt.convert_time_zone("UTC") if when.dtype.time_zone else when
        when = when.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
    return frame.with_columns(
        when.alias("answered_at"),
        pl.col("score").cast(pl.Float64),
        pl.col("client_id").cast(pl.Utf8),
    ).select(list(SCHEMA))


def dominant_constitution(
    *, institution_id: uuid.UUID | str, client_ids: list[str] | None = None
) -> pl.DataFrame:
    """Each client's TCM constitution(s) from their latest TCM questionnaire: one row per
    constitution judged 是 / 基本是 (平和质) / 倾向是, strongest first (`rank` 1 = the main one;
    judgement, then the standard's order). Columns: client_id, constitution (tcm.CONSTITUTIONS
    code), judgement (yes / basically_yes / tendency), score (conversion score), rank (Int64).
    A client whose every constitution is judged 否 has no row. Internal, like `latest_scores`."""
    frame = latest_scores(institution_id=institution_id, client_ids=client_ids)
    strength = {tcm.YES: 0, tcm.BASICALLY_YES: 1, tcm.TENDENCY: 2}
    order = {c: i for i, c in enumerate(tcm.CONSTITUTIONS)}
    picked = (
        frame.filter(pl.col("instrument").str.starts_with(tcm.PREFIX))
        .with_columns(pl.col("instrument").str.slice(len(tcm.PREFIX)).alias("constitution"))
        .filter(pl.col("band").is_in(list(strength)))
        .filter((pl.col("constitution") != tcm.PINGHE) | (pl.col("band") != tcm.TENDENCY))
        .with_columns(
            pl.col("band").replace_strict(strength, return_dtype=pl.Int64).alias("_s"),
            pl.col("constitution").replace_strict(order, return_dtype=pl.Int64).alias("_o"),
        )
        .sort(["client_id", "_s", "_o"])
        .with_columns(pl.int_range(1, pl.len() + 1).over("client_id").cast(pl.Int64).alias("rank"))
    )
    return picked.select(
        "client_id",
        "constitution",
        pl.col("band").alias("judgement"),
        "score",
        "rank",
    )
