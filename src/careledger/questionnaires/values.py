"""Answer values and how they are read from what people send. Pure: no Django.

An answer set maps a question's linkId to its answers (a list: one item unless the question
repeats), each of the Python type its item type calls for:

| item type | value |
|---|---|
| boolean | `bool` |
| integer | `int` |
| decimal | `Decimal` |
| date | `datetime.date` |
| string, text | `str` (free text) |
| choice | `str`, the option's code |
| open-choice | `str` (an option's code) or `Other(text)` (free text typed instead) |

`coerce(item, raw)` accepts a form's string or a JSON value and returns the typed value, or
raises `Invalid(code, params)` saying why not (the caller names the item).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from careledger.questionnaires.definition import Item

TRUE = frozenset({"true", "1", "yes", "on", "是"})
FALSE = frozenset({"false", "0", "no", "off", "否"})


@dataclass(frozen=True)
class Other:
    """Free text given to an open-choice question instead of one of its options."""

    text: str


class Invalid(ValueError):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def is_free_text(item: Item, value: Any) -> bool:
    return item.type in ("string", "text") or isinstance(value, Other)


def _number(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise Invalid("not_a_number")
    text = str(raw).strip().replace("，", ".").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Invalid("not_a_number") from None
    if not value.is_finite():
        raise Invalid("not_a_number")
    return value


def coerce(item: Item, raw: Any) -> Any:
    """The typed value of one answer (raises Invalid)."""
    kind = item.type
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise Invalid("not_a_boolean")
    if kind == "integer":
        value = _number(raw)
        if value != value.to_integral_value():
            raise Invalid("not_an_integer")
        return int(value)
    if kind == "decimal":
        return _number(raw)
    if kind == "date":
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise Invalid("not_a_date") from None
    if kind in ("string", "text"):
        text = str(raw).strip()
        if item.max_length is not None and len(text) > item.max_length:
            raise Invalid("too_long", max=item.max_length)
        return text
    if kind == "choice":
        code = str(raw).strip()
        if item.option(code) is None:
            raise Invalid("not_an_option")
        return code
    if kind == "open-choice":
        if isinstance(raw, Other):
            text = raw.text.strip()
        elif isinstance(raw, dict) and "other" in raw:
            text = str(raw["other"]).strip()
        else:
            code = str(raw).strip()
            if item.option(code) is not None:
                return code
            text = code
        if item.max_length is not None and len(text) > item.max_length:
            raise Invalid("too_long", max=item.max_length)
        return Other(text)
    raise Invalid("not_answerable")


def is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, Other):
        return not raw.text.strip()
    if isinstance(raw, dict):
        return not str(raw.get("other", "")).strip()
    return isinstance(raw, str) and not raw.strip()


def to_json(value: Any) -> Any:
    """A typed value as stored and sent as JSON (dates ISO, decimals as strings)."""
    if isinstance(value, Other):
        return {"other": value.text}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def from_json(item: Item, value: Any) -> Any:
    """The inverse of `to_json` for an item (trusted stored data)."""
    if isinstance(value, dict) and "other" in value:
        return Other(str(value["other"]))
    if item.type == "decimal":
        return Decimal(str(value))
    if item.type == "date":
        return dt.date.fromisoformat(value)
    return value
