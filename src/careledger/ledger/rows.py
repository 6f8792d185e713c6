"""Row digests: the hash of a stored row version that a write commits to the ledger.

Computed over what is stored (sealed tokens, not plaintext, so the ledger cannot be used to
confirm a guessed phone number), for every concrete column except `updated_at`. Recomputing it
from the database later and comparing with the ledger shows whether the row was changed behind
the application's back.

The digest must come out the same from the instance a service just saved and from the row read
back later, on SQLite and PostgreSQL alike, so every value is first normalised the way the
database returns it (`field.to_python`), then written as a JSON-able plain value. A row whose
encrypted field still holds plaintext has not been saved yet: sealing it would commit a digest
of a value the database never holds, so it is refused.

`RowDigester` gives the same digest from a row's values without a model instance, for writers
of many small rows (the report import digests tens of thousands of observations per batch;
building a model instance and going through the generic path per row cost more than the
database's insert). It is an optimisation of this one definition, not a second one: its output
is byte for byte `row_digest`'s (tests compare the two on rows read back from both databases),
and `ledger verify` always recomputes through `row_digest`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models

from careledger.crypto.fields import EncryptedTextField, Sealed
from careledger.ledger import merkle

_SKIPPED = {"updated_at"}


def content_hash(data: Any) -> str:
    """SHA-256 of canonical JSON: the digest of a row version (or any JSON-able content)."""
    return hashlib.sha256(merkle.canonical_json(data)).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Sealed):
        return value.token
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    if isinstance(value, dt.datetime | dt.date | uuid.UUID | decimal.Decimal):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _normalised(instance_label: str, field: models.Field, value: Any) -> Any:
    """A column's value as the database returns it (see the module docstring)."""
    if isinstance(field, EncryptedTextField):
        if isinstance(value, str) and value:
            raise ValueError(
                f"{instance_label}.{field.attname} is not sealed yet: seal rows after saving"
            )
        return value
    if value is not None and not isinstance(field, models.JSONField):
        value = field.to_python(value)
    return value


def _stored(instance: models.Model, field: models.Field) -> Any:
    return _normalised(instance._meta.label, field, instance.__dict__.get(field.attname))


def table_of(instance: models.Model) -> str:
    return instance._meta.db_table


def _children_of(instance: models.Model) -> list[models.Model] | None:
    """Rows a parent's digest also covers: a model opts in with `sealed_children()` (and may
    offer `prefetch_sealed_children(rows)`, which leaves them in `_sealed_children`, so that
    `verify` reads them a chunk at a time). Used where one write creates many small rows that
    only ever change together (a report and its observations): one seal, not one per row."""
    prefetched = instance.__dict__.get("_sealed_children")
    if prefetched is not None:
        return prefetched
    children = getattr(instance, "sealed_children", None)
    return children() if callable(children) else None


def _child_digests(instance: models.Model) -> list[list[str]] | None:
    """[primary key, row digest] of each child. A writer that has just digested the children it
    wrote (with `RowDigester`) may leave the pairs in `_sealed_child_digests` instead of
    loading the rows back; they are the same pairs."""
    known = instance.__dict__.get("_sealed_child_digests")
    if known is not None:
        return [[str(pk), digest] for pk, digest in known]
    children = _children_of(instance)
    if children is None:
        return None
    return [[str(child.pk), row_digest(child)] for child in children]


def row_digest(instance: models.Model) -> str:
    data = {
        field.column: _plain(_stored(instance, field))
        for field in instance._meta.concrete_fields
        if field.attname not in _SKIPPED
    }
    data["_table"] = instance._meta.db_table
    children = _child_digests(instance)
    if children is not None:
        data["_children"] = sorted(children)
    return content_hash(data)


# --- the same digest from values ------------------------------------------------------------

_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
_quoted = '"%s"'.__mod__  # str() of a value, as a JSON string (for values str() writes safely)


def _json(value: Any) -> str:
    """One value as `merkle.canonical_json` writes it inside an object."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


class _Column:
    """How one column's values are written in the digests of a run of rows: `_json(_plain(v))`
    of each value normalised as in `row_digest` — in bulk, where every value of the run has
    the one type a writer holds for that column and `to_python` returns it unchanged."""

    def __init__(self, label: str, field: models.Field) -> None:
        self.label = label
        self.field = field
        target = field.target_field if field.is_relation else field
        self.fast: dict[type, Callable[[list[Any]], list[str]]] = {type(None): self._nulls}
        if type(field) in (models.CharField, models.TextField):
            self.fast[str] = self._strings
        if isinstance(target, models.UUIDField):
            self.fast[uuid.UUID] = self._uuids
        if type(field) is models.DecimalField:
            self.fast[decimal.Decimal] = self._decimals
        if type(field) is models.BooleanField:
            self.fast[bool] = self._booleans
        if type(field) is models.DateTimeField:
            self.fast[dt.datetime] = self._repeating

    def one(self, value: Any) -> str:
        return _json(_plain(_normalised(self.label, self.field, value)))

    def fragments(self, values: list[Any]) -> list[str]:
        kinds = set(map(type, values))
        fast = self.fast.get(kinds.pop()) if len(kinds) == 1 else None
        return fast(values) if fast is not None else [self.one(v) for v in values]

    def _nulls(self, values: list[Any]) -> list[str]:
        return ["null"] * len(values)

    def _strings(self, values: list[Any]) -> list[str]:
        return list(map(_encode_str, values))

    def _uuids(self, values: list[Any]) -> list[str]:
        if len(set(map(id, values))) == 1:  # the parent's id down its children: write it once
            return [_quoted(values[0])] * len(values)
        return list(map(_quoted, values))  # str(): lower-case hex with dashes

    def _decimals(self, values: list[Any]) -> list[str]:
        if all(v.is_finite() for v in values):
            return list(map(_quoted, values))
        return [self.one(v) for v in values]  # refused by to_python, as in row_digest

    def _booleans(self, values: list[Any]) -> list[str]:
        return ["true" if v else "false" for v in values]

    def _repeating(self, values: list[Any]) -> list[str]:
        if len(set(map(id, values))) == 1:
            return [self.one(values[0])] * len(values)
        known = {v: self.one(v) for v in set(values)}  # equal times write the same
        return [known[v] for v in values]


class RowDigester:
    """`row_digest` of rows of one model given as values, in the order of `attnames`.

    For a model whose rows seal no children: `RowDigester(Observation).digest_many(rows)[i]`
    equals `row_digest(obj)` of the saved `obj` holding `rows[i]`, as long as the values are
    the ones the database gives back (e.g. a Decimal with the column's decimal places). The
    rows are taken a column at a time, so that most of the work runs in C."""

    def __init__(self, model: type[models.Model]) -> None:
        if callable(getattr(model, "sealed_children", None)):
            raise ValueError(f"{model._meta.label} seals children: digest its instances")
        fields = [f for f in model._meta.concrete_fields if f.attname not in _SKIPPED]
        self.attnames = [f.attname for f in fields]
        keyed = sorted([(f.column, i) for i, f in enumerate(fields)] + [("_table", -1)])
        table = _encode_str(model._meta.db_table).replace("%", "%%")
        parts = []
        for n, (column, i) in enumerate(keyed):
            key = ("{" if n == 0 else ",") + _encode_str(column).replace("%", "%%") + ":"
            parts.append(key + (table if i < 0 else "%s"))
        self._template = "".join(parts) + "}"
        self._columns = [(i, _Column(model._meta.label, fields[i])) for _c, i in keyed if i >= 0]
        self._pk = next(i for i, f in enumerate(fields) if f.primary_key)

    def _written(self, rows: Sequence[Sequence[Any]]) -> list[list[str]]:
        """Each column's values as written in the digests, in the key order of `_columns`."""
        by_column = list(zip(*rows, strict=True))
        if len(by_column) != len(self.attnames):
            raise ValueError(f"rows of {len(by_column)} values; expected {self.attnames}")
        return [column.fragments(list(by_column[i])) for i, column in self._columns]

    def _hashes(self, written: list[list[str]]) -> list[str]:
        template = self._template
        return [
            hashlib.sha256((template % values).encode("utf-8")).hexdigest()
            for values in zip(*written, strict=True)
        ]

    def digest_many(self, rows: Sequence[Sequence[Any]]) -> list[str]:
        return self._hashes(self._written(rows)) if rows else []

    def digest_pairs(self, rows: Sequence[Sequence[Any]]) -> list[tuple[str, str]]:
        """(str(primary key), digest) of each row: what a parent's `_sealed_child_digests`
        holds (the key as the digest wrote it, so it is not written twice)."""
        if not rows:
            return []
        written = self._written(rows)
        keys = next(w for (i, _c), w in zip(self._columns, written, strict=True) if i == self._pk)
        plain = [k[1:-1] if k[0] == '"' and "\\" not in k else str(json.loads(k)) for k in keys]
        return list(zip(plain, self._hashes(written), strict=True))

    def digest(self, values: Sequence[Any]) -> str:
        return self.digest_many([values])[0]
