"""The facts frame: one row per client, one column per fact the published rules read.

Built in a handful of SQL queries for the whole institution or a set of clients, never a query
per client: clients (sex, birth date); the current results of the indicators the rules name,
read once as plain rows (`observations.population.current_results`) and turned into the latest
two per (client, indicator), the latest flag, the age of the latest and the per-series slope
by polars (a window function in SQL sorted millions of rows; ADR 0009, Performance); active
conditions matching the rules' ICD-10 prefixes; current medications; the current lifestyle
entry; and, from the apps that own them, questionnaire scores and risk levels. Only the columns
the rules name are read.

Internal: no access check here. Callers are the evaluator (a system task) and the admin's
preview (authorised, counts only); neither shows a row to anyone.

Values are in the catalogue's canonical unit as the observation store keeps them; a fact a
client lacks is null (see rules.py for what a null does to a comparison).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
from django.db import connection

from careledger.clients.models import Client
from careledger.observations.population import current_results, ranked
from careledger.observations.trends import DAYS_PER_YEAR, MIN_SLOPE_POINTS, MIN_SLOPE_SPAN_YEARS
from careledger.records.models import ConditionEntry, LifestyleEntry, MedicationEntry
from careledger.tagging.rules import LIFESTYLE_NUMBER, LIFESTYLE_TEXT, Fact

CHUNK = 500  # client ids per IN list
_SERIES_KINDS = {"latest", "previous", "flag", "change", "years_since"}
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _float(column: str) -> str:
    return f"CAST({column} AS DOUBLE PRECISION)" if _postgres() else f"CAST({column} AS REAL)"


def _db_ids(client_ids: Sequence[str]) -> list[Any]:
    field = Client._meta.pk
    return [field.get_db_prep_value(uuid.UUID(str(c)), connection) for c in client_ids]


def _chunks(client_ids: Sequence[str] | None) -> Iterable[list[Any] | None]:
    if client_ids is None:
        yield None
        return
    ids = _db_ids(client_ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _query(sql: str, params: list[Any], client_ids: Sequence[str] | None, column: str):  # type: ignore[no-untyped-def]
    """Rows of `sql` for the institution (`{scope}` is `institution_id = %s`, the first
    parameter) or for the given clients (`{scope}` is then `column IN (...)`: the planner uses
    the per-client index, and the clients frame, built for the institution, bounds the rest)."""
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(client_ids):
            if chunk is None:
                cursor.execute(sql.format(scope="institution_id = %s"), params)
            else:
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(sql.format(scope=f"{column} IN ({marks})"), chunk + params[1:])
            rows.extend(cursor.fetchall())
    return rows


def _uuid_text(values: list[Any]) -> list[str]:
    """Client ids as canonical UUID text (SQLite keeps them as 32 hex digits)."""
    return [str(v) if isinstance(v, uuid.UUID) else str(uuid.UUID(v)) for v in values]


def _frame(rows: list[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    names = list(schema)
    if not rows:
        return pl.DataFrame(schema=schema)
    columns = list(zip(*rows, strict=True))
    data: dict[str, list[Any]] = {}
    for name, values in zip(names, columns, strict=True):
        values = list(values)
        if name == "client_id":
            values = _uuid_text(values)
        elif schema[name] == pl.Float64:
            values = [None if v is None else float(v) for v in values]
        data[name] = values
    return pl.DataFrame(data, schema=schema)


def _age(births: list[Any], today: dt.date) -> list[int]:
    out = []
    for b in births:
        born = b if isinstance(b, dt.date) else dt.date.fromisoformat(str(b))
        out.append(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
    return out


def _clients(institution_id: uuid.UUID, client_ids: Sequence[str] | None, today: dt.date):  # type: ignore[no-untyped-def]
    table = Client._meta.db_table
    # The institution bounds a client-scoped read here, and every other read joins onto this.
    sql = f"SELECT id, sex, birth_date FROM {table} WHERE {{scope}} AND institution_id = %s"  # noqa: S608
    inst = _inst(institution_id)
    rows = _query(sql, [inst, inst], client_ids, "id")
    if not rows:
        return pl.DataFrame(schema={"client_id": pl.Utf8, "sex": pl.Utf8, "age": pl.Float64})
    ids, sexes, births = (list(c) for c in zip(*rows, strict=True))
    return pl.DataFrame(
        {"client_id": _uuid_text(ids), "sex": sexes, "age": _age(births, today)},
        schema={"client_id": pl.Utf8, "sex": pl.Utf8, "age": pl.Float64},
    )


def _inst(institution_id: uuid.UUID) -> Any:
    return Client._meta.get_field("institution").target_field.get_db_prep_value(
        uuid.UUID(str(institution_id)), connection
    )


def _code_marks(codes: Sequence[str]) -> str:
    return ", ".join(["%s"] * len(codes))


def _series(results: pl.DataFrame, codes: list[str], now: dt.datetime) -> pl.DataFrame:
    """latest/previous value, latest flag and age of the latest result per (client, code)."""
    mine = results.filter(pl.col("code").is_in(codes))
    frame = ranked(mine, 2).with_columns(days=_days_since_epoch(pl.col("effective_at")))
    latest = frame.filter(pl.col("rank") == 1)
    previous = frame.filter(pl.col("rank") == 2).select(
        "client_id", "code", pl.col("value").alias("previous")
    )
    now_days = (now - _EPOCH).total_seconds() / 86400
    return latest.join(previous, on=["client_id", "code"], how="left").with_columns(
        years_since=(pl.lit(now_days) - pl.col("days")) / DAYS_PER_YEAR
    )


def _days_since_epoch(when: pl.Expr) -> pl.Expr:
    return (when - pl.lit(_EPOCH)).dt.total_microseconds() / 86_400_000_000


def _slopes(results: pl.DataFrame, codes: list[str]) -> pl.DataFrame:
    """OLS slope per year of each client's exact current values (as the trend view: at least
    three values over at least a year), from per-series sums."""
    t = _days_since_epoch(pl.col("effective_at")) / DAYS_PER_YEAR
    v = pl.col("value")
    sums = (
        results.filter(pl.col("code").is_in(codes) & v.is_not_null() & pl.col("exact"))
        .with_columns(t=t)
        .group_by("client_id", "code")
        .agg(
            n=pl.len().cast(pl.Float64),
            st=pl.col("t").sum(),
            sv=v.sum(),
            stt=(pl.col("t") * pl.col("t")).sum(),
            stv=(pl.col("t") * v).sum(),
            t0=pl.col("t").min(),
            t1=pl.col("t").max(),
        )
    )
    n, st, sv, stt, stv = (pl.col(c) for c in ("n", "st", "sv", "stt", "stv"))
    denominator = n * stt - st * st
    slope = (
        pl.when(
            (n >= MIN_SLOPE_POINTS)
            & (pl.col("t1") - pl.col("t0") >= MIN_SLOPE_SPAN_YEARS)
            & (denominator > 0)
        )
        .then((n * stv - st * sv) / denominator)
        .otherwise(None)
    )
    return sums.select("client_id", "code", slope.alias("slope"))


def _wide(frame: pl.DataFrame, wanted: list[Fact], value_of: dict[str, str]) -> pl.DataFrame:
    """One column per wanted fact from a long frame keyed by (client_id, code): a pivot per
    kind of value (not a filter and join per fact)."""
    out = frame.select("client_id").unique()
    by_kind: dict[str, list[str]] = {}
    for fact in wanted:
        by_kind.setdefault(fact.kind, []).append(fact.arg)
    for kind, codes in by_kind.items():
        part = frame.filter(pl.col("code").is_in(codes))
        if part.is_empty():
            continue
        part = part.pivot(
            on="code", index="client_id", values=value_of[kind], aggregate_function="first"
        )
        out = out.join(
            part.rename({c: f"{kind}:{c}" for c in part.columns if c != "client_id"}),
            on="client_id",
            how="left",
        )
    return out


def _conditions(
    institution_id: uuid.UUID, wanted: list[Fact], client_ids: Sequence[str] | None
) -> pl.DataFrame:
    table = ConditionEntry._meta.db_table
    prefixes = sorted({f.arg for f in wanted})
    likes = " OR ".join(["code LIKE %s"] * len(prefixes))
    sql = (
        f"SELECT DISTINCT client_id, code FROM {table} WHERE {{scope}} "  # noqa: S608
        f"AND status = 'active' AND clinical_status = 'active' AND ({likes})"
    )
    params = [_inst(institution_id), *[p.replace("%", "") + "%" for p in prefixes]]
    rows = _query(sql, params, client_ids, "client_id")
    frame = _frame(rows, {"client_id": pl.Utf8, "code": pl.Utf8})
    return frame.group_by("client_id").agg(
        pl.col("code").str.starts_with(f.arg).any().alias(f.column) for f in wanted
    )


def _medications(institution_id: uuid.UUID, client_ids: Sequence[str] | None) -> pl.DataFrame:
    table = MedicationEntry._meta.db_table
    sql = (
        f"SELECT DISTINCT client_id FROM {table} WHERE {{scope}} "  # noqa: S608
        "AND status = 'active' AND medication_status = 'active'"
    )
    rows = _query(sql, [_inst(institution_id)], client_ids, "client_id")
    frame = _frame(rows, {"client_id": pl.Utf8})
    return frame.with_columns(pl.lit(True).alias(Fact("has_medication").column))


def _lifestyle(
    institution_id: uuid.UUID, wanted: list[Fact], client_ids: Sequence[str] | None
) -> pl.DataFrame:
    fields = [f.arg for f in wanted if f.arg in LIFESTYLE_TEXT | LIFESTYLE_NUMBER]
    table = LifestyleEntry._meta.db_table
    selected = ", ".join(_float(f) if f in LIFESTYLE_NUMBER else f for f in fields)
    sql = (
        f"SELECT client_id, {selected} FROM {table} WHERE {{scope}} "  # noqa: S608
        "AND status = 'active'"
    )
    rows = _query(sql, [_inst(institution_id)], client_ids, "client_id")
    schema: dict[str, Any] = {"client_id": pl.Utf8}
    for f in fields:
        schema[Fact("lifestyle", f).column] = pl.Float64 if f in LIFESTYLE_NUMBER else pl.Utf8
    frame = _frame(rows, schema)
    # Empty answers ("" = not asked) are missing facts, not a code.
    return frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c, t in schema.items()
        if t == pl.Utf8 and c != "client_id"
    )


def _scores(
    institution_id: uuid.UUID, wanted: list[Fact], client_ids: Sequence[str] | None
) -> pl.DataFrame:
    from careledger.questionnaires.facts import latest_scores

    long = latest_scores(institution_id=institution_id, client_ids=_list(client_ids))
    long = long.rename({"instrument": "code"})
    return _wide(long, wanted, {"score": "score", "band": "band"})


def _risks(
    institution_id: uuid.UUID, wanted: list[Fact], client_ids: Sequence[str] | None
) -> pl.DataFrame:
    from careledger.assessment.facts import latest_risks

    long = latest_risks(institution_id=institution_id, client_ids=_list(client_ids))
    long = long.rename({"model": "code"})
    return _wide(long, wanted, {"risk": "level", "risk_value": "value"})


def _list(client_ids: Sequence[str] | None) -> list[str] | None:
    return None if client_ids is None else [str(c) for c in client_ids]


def build_facts(
    *,
    institution_id: uuid.UUID,
    facts: Iterable[Fact],
    client_ids: Sequence[str] | None = None,
    now: dt.datetime,
    results: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The facts frame: `client_id` (UUID text) and one column per fact, named `Fact.column`,
    for every client of the institution (or those of `client_ids` in it). `results`: the
    same clients' `observations.population.current_results` when the caller has read them
    already (the nightly run reads them once for the risk models and the rules)."""
    wanted = {f.column: f for f in facts}
    today = now.date()
    frame = _clients(institution_id, client_ids, today)
    kinds: dict[str, list[Fact]] = {}
    for fact in wanted.values():
        kinds.setdefault(fact.kind, []).append(fact)
    series = [f for k in _SERIES_KINDS for f in kinds.get(k, [])]
    slopes = kinds.get("slope", [])
    parts: list[pl.DataFrame] = []
    if (series or slopes) and results is None:
        codes = sorted({f.arg for f in series + slopes})
        results = current_results(institution_id=institution_id, codes=codes, client_ids=client_ids)
    if series:
        long = _series(results, sorted({f.arg for f in series}), now)
        long = long.with_columns(change=pl.col("value") - pl.col("previous"))
        value_of = {
            "latest": "value",
            "previous": "previous",
            "flag": "flag",
            "change": "change",
            "years_since": "years_since",
        }
        parts.append(_wide(long, series, value_of))
    if slopes:
        codes = sorted({f.arg for f in slopes})
        parts.append(_wide(_slopes(results, codes), slopes, {"slope": "slope"}))
    if kinds.get("has_condition"):
        parts.append(_conditions(institution_id, kinds["has_condition"], client_ids))
    if kinds.get("has_medication"):
        parts.append(_medications(institution_id, client_ids))
    if kinds.get("lifestyle"):
        parts.append(_lifestyle(institution_id, kinds["lifestyle"], client_ids))
    if kinds.get("score") or kinds.get("band"):
        parts.append(
            _scores(institution_id, kinds.get("score", []) + kinds.get("band", []), client_ids)
        )
    if kinds.get("risk") or kinds.get("risk_value"):
        parts.append(
            _risks(institution_id, kinds.get("risk", []) + kinds.get("risk_value", []), client_ids)
        )
    for part in parts:
        frame = frame.join(part, on="client_id", how="left")
    # Every wanted column exists, even when no client has the fact; presence facts are false.
    missing = [c for c in wanted if c not in frame.columns]
    dtypes = {"text": pl.Utf8, "bool": pl.Boolean, "number": pl.Float64}
    frame = frame.with_columns(pl.lit(None, dtype=dtypes[wanted[c].type]).alias(c) for c in missing)
    presence = [c for c, f in wanted.items() if f.type == "bool"]
    return frame.with_columns(pl.col(c).fill_null(False) for c in presence)
