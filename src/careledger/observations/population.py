"""Population reads of the observation store as polars frames, for engines that evaluate many
clients at once (risk models, tag rules, benchmarks): every current result of some indicators,
and from it the latest results per client and indicator and each client's highest result.

Why one raw read and polars, not window functions in SQL: at 100,000 clients an institution
holds millions of results, and the time went into the database sorting them for ROW_NUMBER()
and into Django turning every value into a Python object (a UUID, an aware datetime, a
Decimal). Here the database only filters and streams plain columns (client id and time as text
or integers, value as a float), polars builds the frame in one call and ranks, groups and
pivots vectorised. Measured in `benchmarks/population.py` (ADR 0011, Performance).

Scope: the institution (`client_ids=None`) or a set of clients. A client-scoped read filters on
`client_id` alone so that the planner takes the per-client `obs_client_series` index (the
institution is bounded by the caller's clients frame); an institution-wide read on SQLite scans
the table rather than the `obs_population` index when the institution holds most of the clients
(SQLite has no statistics to know that the index then only adds a random lookup per row).

Internal: no access check and no ledger event here. Callers are services that authorised their
own institution-level work and never hand these frames out. Values are in the catalogue's
canonical unit; only current (not superseded) results.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import polars as pl
from django.db import connection

from careledger.clients.models import Client
from careledger.observations.models import Observation

CHUNK = 500  # client ids per IN list
RESULTS_SCHEMA = {
    "client_id": pl.Utf8,
    "code": pl.Utf8,
    "effective_at": pl.Datetime("us", "UTC"),
    "created_at": pl.Datetime("us", "UTC"),
    "value": pl.Float64,  # null for a text result
    "exact": pl.Boolean,  # no comparator ("<0.1" is not exact)
    "flag": pl.Utf8,
}
LATEST_SCHEMA = {
    "client_id": pl.Utf8,
    "code": pl.Utf8,
    "rank": pl.Int32,
    "value": pl.Float64,
    "effective_at": pl.Datetime("us", "UTC"),
}
MAX_SCHEMA = {"client_id": pl.Utf8, "code": pl.Utf8, "value": pl.Float64}
# SQLite keeps datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]" text in UTC.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S%.f"
# Above this share of all clients, an institution-wide SQLite read scans the table.
_SCAN_SHARE = 0.3


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _db(value: uuid.UUID | str) -> Any:
    return Client._meta.pk.get_db_prep_value(uuid.UUID(str(value)), connection)


def _scan_table(institution: Any) -> bool:
    """Whether an institution-wide SQLite read should scan the table (see the docstring)."""
    table = Client._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        everyone = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE institution_id = %s", [institution])  # noqa: S608
        ours = cursor.fetchone()[0]
    return everyone > 0 and ours >= everyone * _SCAN_SHARE


def _sql(codes: Sequence[str], scope: str, hint: str) -> str:
    table = Observation._meta.db_table
    marks = ", ".join(["%s"] * len(codes))
    if _postgres():
        columns = (
            "client_id::text, code, "
            "(EXTRACT(EPOCH FROM effective_at) * 1000000)::bigint, "
            "(EXTRACT(EPOCH FROM created_at) * 1000000)::bigint, "
            "value::double precision, comparator = '', flag"
        )
        current = "is_current"
    else:
        # Expressions, not bare datetime columns: Django's SQLite connection would otherwise turn
        # each one into a Python datetime (by declared type) before polars parses the text.
        columns = (
            "client_id, code, CAST(effective_at AS TEXT), CAST(created_at AS TEXT), "
            "CAST(value AS REAL), comparator = '', flag"
        )
        current = "is_current = 1"
    return (
        f"SELECT {columns} FROM {table} {hint} "  # noqa: S608
        f"WHERE {scope} AND {current} AND code IN ({marks})"
    )


def current_results(
    *,
    institution_id: uuid.UUID | str,
    codes: Sequence[str],
    client_ids: Sequence[uuid.UUID | str] | None = None,
) -> pl.DataFrame:
    """Every current result of `codes` for the institution's clients (or for `client_ids`,
    which the caller has bounded to the institution): columns of `RESULTS_SCHEMA`, in no
    particular order."""
    codes = sorted(set(codes))
    if not codes or (client_ids is not None and not client_ids):
        return pl.DataFrame(schema=RESULTS_SCHEMA)
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if client_ids is None:
            institution = _db(institution_id)
            hint = "" if _postgres() or not _scan_table(institution) else "NOT INDEXED"
            cursor.execute(_sql(codes, "institution_id = %s", hint), [institution, *codes])
            rows = cursor.fetchall()
        else:
            ids = [_db(c) for c in client_ids]
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                scope = f"client_id IN ({', '.join(['%s'] * len(chunk))})"
                cursor.execute(_sql(codes, scope, ""), [*chunk, *codes])
                rows.extend(cursor.fetchall())
    return _frame(rows)


def _frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=RESULTS_SCHEMA)
    time_type = pl.Int64 if _postgres() else pl.Utf8
    raw = pl.DataFrame(
        rows,
        schema={
            "client_id": pl.Utf8,
            "code": pl.Utf8,
            "effective_at": time_type,
            "created_at": time_type,
            "value": pl.Float64,
            "exact": pl.Boolean,
            "flag": pl.Utf8,
        },
        orient="row",
    )
    if _postgres():
        when = [pl.col(c).cast(pl.Datetime("us", "UTC")) for c in ("effective_at", "created_at")]
        client = pl.col("client_id")
    else:
        when = [
            pl.col(c).str.to_datetime(SQLITE_TIME, time_unit="us", time_zone="UTC")
            for c in ("effective_at", "created_at")
        ]
        client = uuid_text(pl.col("client_id"))
    return raw.with_columns(client, *when).select(list(RESULTS_SCHEMA))


def uuid_text(hexes: pl.Expr) -> pl.Expr:
    """32 hex digits (how SQLite keeps a UUID) as canonical UUID text, vectorised."""
    parts = [(0, 8), (8, 4), (12, 4), (16, 4), (20, 12)]
    return pl.concat_str([hexes.str.slice(a, n) for a, n in parts], separator="-").alias(
        hexes.meta.output_name()
    )


def ranked(results: pl.DataFrame, per_code: int) -> pl.DataFrame:
    """The `per_code` most recent of `results` per (client, code), with `rank` (1 = latest);
    newest by effective time, then by when it was stored."""
    return (
        results.sort(
            ["client_id", "code", "effective_at", "created_at"],
            descending=[False, False, True, True],
            maintain_order=True,
        )
        .with_columns(rank=(pl.int_range(pl.len()).over("client_id", "code") + 1).cast(pl.Int32))
        .filter(pl.col("rank") <= per_code)
    )


def latest_from(results: pl.DataFrame, per_code: int = 1) -> pl.DataFrame:
    """`latest_values` of an already read `current_results` frame (numeric results only)."""
    numeric = results.filter(pl.col("value").is_not_null())
    return ranked(numeric, per_code).select(list(LATEST_SCHEMA))


def highest_from(results: pl.DataFrame) -> pl.DataFrame:
    """`highest_values` of an already read `current_results` frame."""
    return (
        results.filter(pl.col("value").is_not_null())
        .group_by("client_id", "code")
        .agg(pl.col("value").max())
        .select(list(MAX_SCHEMA))
    )


def latest_values(
    *,
    institution_id: uuid.UUID | str,
    codes: Sequence[str],
    client_ids: Sequence[uuid.UUID | str] | None = None,
    per_code: int = 1,
) -> pl.DataFrame:
    """The `per_code` most recent numeric results of each code for each client: columns
    client_id, code, rank (1 = latest, 2 = the one before, …), value, effective_at."""
    results = current_results(institution_id=institution_id, codes=codes, client_ids=client_ids)
    return latest_from(results, per_code)


def highest_values(
    *,
    institution_id: uuid.UUID | str,
    codes: Sequence[str],
    client_ids: Sequence[uuid.UUID | str] | None = None,
) -> pl.DataFrame:
    """Each client's highest current result ever of each code: client_id, code, value."""
    results = current_results(institution_id=institution_id, codes=codes, client_ids=client_ids)
    return highest_from(results)
