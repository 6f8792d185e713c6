"""Who is in an export's scope, and their data as one polars frame (one row per client).

Internal: no access check and no ledger event here. The callers are `exports.services`, which
authorised the institution-level work (request, approval, run) and ledger what left. Set-based
throughout: the scope is a handful of subqueries on the client table, results come in one
window query, tags in one query, and sealed fields are opened with one key query per chunk, so
100,000 clients cost a few dozen queries, not 100,000.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import polars as pl
from django.db.models import F, FloatField, Q, QuerySet, Window
from django.db.models.functions import Cast, RowNumber

from careledger.clients.models import Client, ClientCareTeam, DocumentType
from careledger.crypto import keyring
from careledger.observations.models import Observation
from careledger.tagging.models import ClientTag

CHUNK = 2000
RESEARCH_PURPOSE = "research"


def research_consented(institution_id: uuid.UUID, at: dt.datetime | None = None) -> QuerySet:
    """Ids of the institution's clients whose research consent (科研使用) is in force at `at`.

    The set-based twin of `careledger.consent.selectors.has_consent(client_id=…,
    purpose="research")`: the same rule (given on or before `at`, not withdrawn by then, no
    partner), as a subquery, so a population of 100,000 is filtered in the database. Deny by
    default: a client with no consent row is not in it.
    """
    from django.utils import timezone

    from careledger.consent.models import Consent

    when = at or timezone.now()
    return (
        Consent.objects.filter(
            institution_id=institution_id,
            purpose=RESEARCH_PURPOSE,
            partner_key="",
            given_at__lte=when,
        )
        .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=when))
        .order_by()
        .values("client_id")
    )


def _day_bounds(scope: Mapping[str, Any], low: str, high: str) -> tuple[Any, Any]:
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    start = end = None
    if scope.get(low):
        start = dt.datetime.combine(dt.date.fromisoformat(scope[low]), dt.time.min, tz)
    if scope.get(high):
        end = dt.datetime.combine(
            dt.date.fromisoformat(scope[high]) + dt.timedelta(days=1), dt.time.min, tz
        )
    return start, end


def clients_in_scope(institution_id: uuid.UUID, scope: Mapping[str, Any]) -> QuerySet:
    rows = Client.objects.filter(institution_id=institution_id)
    if scope.get("care_team_ids"):
        rows = rows.filter(
            id__in=ClientCareTeam.objects.filter(care_team_id__in=scope["care_team_ids"])
            .order_by()
            .values("client_id")
        )
    if scope.get("tag_codes"):
        rows = rows.filter(
            id__in=ClientTag.objects.filter(
                institution_id=institution_id, active=True, tag__code__in=scope["tag_codes"]
            )
            .order_by()
            .values("client_id")
        )
    start, end = _day_bounds(scope, "enrolled_from", "enrolled_to")
    if start:
        rows = rows.filter(created_at__gte=start)
    if end:
        rows = rows.filter(created_at__lt=end)
    if scope.get("kind") == "research":
        rows = rows.filter(id__in=research_consented(institution_id))
    return rows.order_by()


def count_in_scope(institution_id: uuid.UUID, scope: Mapping[str, Any]) -> int:
    return clients_in_scope(institution_id, scope).count()


def _chunks(rows: Iterator[Client], size: int) -> Iterator[list[Client]]:
    chunk: list[Client] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _client_columns(institution_id: uuid.UUID, scope: Mapping[str, Any]) -> dict[str, list[Any]]:
    identifiers: Sequence[str] = (
        scope.get("identifier_fields", ()) if scope.get("identified") else ()
    )
    sealed = ["document_number", *[f for f in identifiers if f != "document_number"]]
    columns: dict[str, list[Any]] = {
        "client_id": [],
        "sex": [],
        "birth_date": [],
        "region_code": [],
        "enrolled_on": [],
        **{f: [] for f in identifiers},
    }
    rows = clients_in_scope(institution_id, scope).only(
        "id", "sex", "birth_date", "document_type", "created_at", *sealed
    )
    tz_date = _local_date
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
        keyring.preload(chunk, sealed)
        for c in chunk:
            columns["client_id"].append(str(c.id))
            columns["sex"].append(c.sex)
            columns["birth_date"].append(c.birth_date)
            columns["enrolled_on"].append(tz_date(c.created_at))
            resident = c.document_type == DocumentType.RESIDENT_ID
            number = c.document_number if (resident or "document_number" in identifiers) else ""
            columns["region_code"].append(number[:6] if resident else None)
            for f in identifiers:
                columns[f].append(number if f == "document_number" else getattr(c, f))
    return columns


def _local_date(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date()


def _observations(
    institution_id: uuid.UUID, scope: Mapping[str, Any], ids: QuerySet
) -> pl.DataFrame:
    schema = {"client_id": pl.Utf8, "code": pl.Utf8, "value": pl.Float64, "at": pl.Datetime("us")}
    codes = list(scope.get("observation_codes", ()))
    if not codes:
        return pl.DataFrame(schema=schema)
    rows = Observation.objects.filter(
        institution_id=institution_id,
        is_current=True,
        code__in=codes,
        value__isnull=False,
        client_id__in=ids,
    )
    start, end = _day_bounds(scope, "results_from", "results_to")
    if start:
        rows = rows.filter(effective_at__gte=start)
    if end:
        rows = rows.filter(effective_at__lt=end)
    rows = (
        rows.order_by()
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("client_id"), F("code")],
                order_by=[F("effective_at").desc(), F("id").desc()],
            ),
            number=Cast("value", FloatField()),
        )
        .filter(rank=1)
        .values_list("client_id", "code", "number", "effective_at")
    )
    data: dict[str, list[Any]] = {name: [] for name in schema}
    for cid, code, number, at in rows.iterator(chunk_size=10000):
        data["client_id"].append(str(cid))
        data["code"].append(code)
        data["value"].append(number)
        data["at"].append(_local_date(at))
    frame = pl.DataFrame(data, schema={**schema, "at": pl.Date})
    return frame


def _tags(institution_id: uuid.UUID, ids: QuerySet) -> pl.DataFrame:
    rows = (
        ClientTag.objects.filter(institution_id=institution_id, active=True, client_id__in=ids)
        .order_by()
        .values_list("client_id", "tag__code")
    )
    data: dict[str, list[str]] = {"client_id": [], "tag": []}
    for cid, code in rows.iterator(chunk_size=10000):
        data["client_id"].append(str(cid))
        data["tag"].append(code)
    frame = pl.DataFrame(data, schema={"client_id": pl.Utf8, "tag": pl.Utf8})
    return frame.group_by("client_id").agg(pl.col("tag").sort().str.join(";").alias("tags"))


def value_column(code: str) -> str:
    return code


def date_column(code: str) -> str:
    return f"{code}@date"


def build_frame(institution_id: uuid.UUID, scope: Mapping[str, Any]) -> pl.DataFrame:
    """One row per client in scope: client_id, sex, birth_date, region_code, enrolled_on, the
    identifiers asked for (identified exports only), `tags`, and per indicator its latest value
    in the result window and that result's date."""
    columns = _client_columns(institution_id, scope)
    frame = pl.DataFrame(
        columns,
        schema={
            "client_id": pl.Utf8,
            "sex": pl.Utf8,
            "birth_date": pl.Date,
            "region_code": pl.Utf8,
            "enrolled_on": pl.Date,
            **{
                f: pl.Utf8
                for f in columns
                if f not in {"client_id", "sex", "birth_date", "region_code", "enrolled_on"}
            },
        },
    )
    ids = clients_in_scope(institution_id, scope).values("id")
    if "tags" in scope.get("categories", ()):
        frame = frame.join(_tags(institution_id, ids), on="client_id", how="left").with_columns(
            pl.col("tags").fill_null("")
        )
    codes = list(scope.get("observation_codes", ()))
    if codes:
        obs = _observations(institution_id, scope, ids)
        for code in codes:
            one = obs.filter(pl.col("code") == code).select(
                "client_id",
                pl.col("value").alias(value_column(code)),
                pl.col("at").alias(date_column(code)),
            )
            frame = frame.join(one, on="client_id", how="left")
    return frame
