"""Editing a draft's FHIR JSON one item or score at a time (the admin's builder). Pure: no Django.

Each function takes the questionnaire JSON and what the builder form sent (plain strings, one
line per option / condition / band) and returns a new JSON object; nothing is validated here
beyond reading the lines: the service (`config_services.do_update_draft`) runs the whole
definition through `definition.parse` and refuses it with every problem named. Line formats:

* options: `code | display | score` (score optional), e.g. `2 | 一半以上的天数 | 2`;
* conditions (enableWhen): `question operator value`, e.g. `smoking = current`,
  `per_day >= 20`, `allergy exists true`; the value is typed by the question it names;
* bands: `min | code | display`, e.g. `10 | moderate | 中度抑郁症状`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from careledger.questionnaires.definition import (
    MAX_URL,
    MIN_URL,
    OPERATORS,
    ORDINAL_URL,
    SCORE_URL,
)


class BuilderError(ValueError):
    pass


def _walk(items: list[dict[str, Any]]) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    for item in items:
        yield items, item
        yield from _walk(item.get("item", []))


def find(resource: Mapping[str, Any], link_id: str) -> dict[str, Any] | None:
    items = resource.get("item", [])
    return next((i for _s, i in _walk(items) if i.get("linkId") == link_id), None)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _options(text: str) -> list[dict[str, Any]]:
    out = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split("|")]
        coding: dict[str, Any] = {
            "code": parts[0],
            "display": parts[1] if len(parts) > 1 else parts[0],
        }
        if len(parts) > 2 and parts[2]:
            try:
                coding["extension"] = [{"url": ORDINAL_URL, "valueDecimal": float(parts[2])}]
            except ValueError:
                raise BuilderError(
                    f"option {parts[0]}: score {parts[2]!r} is not a number"
                ) from None
        out.append({"valueCoding": coding})
    return out


def _answer(target: Mapping[str, Any] | None, operator: str, value: str) -> dict[str, Any]:
    kind = (target or {}).get("type", "string")
    if operator == "exists" or kind == "boolean":
        return {"answerBoolean": value.lower() in ("true", "yes", "1", "是")}
    try:
        if kind == "integer":
            return {"answerInteger": int(value)}
        if kind == "decimal":
            return {"answerDecimal": float(value)}
    except ValueError:
        raise BuilderError(f"condition value {value!r} is not a number") from None
    if kind == "date":
        return {"answerDate": value}
    if kind in ("choice", "open-choice"):
        return {"answerCoding": {"code": value}}
    return {"answerString": value}


def _conditions(resource: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    out = []
    for line in _lines(text):
        parts = line.split(None, 2)
        if len(parts) != 3 or parts[1] not in OPERATORS:
            raise BuilderError(f"condition {line!r}: write `question operator value`")
        question, operator, value = parts
        out.append(
            {
                "question": question,
                "operator": operator,
                **_answer(find(resource, question), operator, value),
            }
        )
    return out


def _range_ext(kind: str, low: str, high: str) -> list[dict[str, Any]]:
    key = {"integer": "valueInteger", "decimal": "valueDecimal", "date": "valueDate"}.get(kind)
    if key is None:
        return []
    out = []
    for url, raw in ((MIN_URL, low), (MAX_URL, high)):
        if raw.strip():
            try:
                value: Any = raw.strip()
                value = (
                    int(value)
                    if key == "valueInteger"
                    else float(value)
                    if key == "valueDecimal"
                    else value
                )
            except ValueError:
                raise BuilderError(f"{raw!r} is not a number") from None
            out.append({"url": url, key: value})
    return out


def upsert_item(resource: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Add an item (new linkId) or replace the one with this linkId, keeping its children and
    other extensions. `parent` names the group it goes in (new items only)."""
    out = copy.deepcopy(dict(resource))
    link_id = form.get("link_id", "").strip()
    kind = form.get("type", "string")
    if not link_id:
        raise BuilderError("an item needs a linkId")
    item: dict[str, Any] = {"linkId": link_id, "type": kind}
    for key, name in (("text", "text"), ("prefix", "prefix")):
        if form.get(name, "").strip():
            item[key] = form[name].strip()
    if form.get("required") and kind not in ("group", "display"):
        item["required"] = True
    if form.get("repeats") and kind in ("choice", "open-choice"):
        item["repeats"] = True
    if kind in ("choice", "open-choice"):
        item["answerOption"] = _options(form.get("options", ""))
    ranges = _range_ext(kind, form.get("min", ""), form.get("max", ""))
    conditions = _conditions(out, form.get("enable_when", ""))
    if conditions:
        item["enableWhen"] = conditions
        if len(conditions) > 1:
            item["enableBehavior"] = form.get("enable_behavior") or "all"
    existing = find(out, link_id)
    if existing is not None:
        kept = [e for e in existing.get("extension", []) if e.get("url") not in (MIN_URL, MAX_URL)]
        if kept or ranges:
            item["extension"] = kept + ranges
        if existing.get("item"):
            item["item"] = existing["item"]
        existing.clear()
        existing.update(item)
        return out
    if ranges:
        item["extension"] = ranges
    parent = form.get("parent", "").strip()
    if parent:
        group = find(out, parent)
        if group is None or group.get("type") != "group":
            raise BuilderError(f"{parent} is not a group")
        group.setdefault("item", []).append(item)
    else:
        out.setdefault("item", []).append(item)
    return out


def delete_item(resource: Mapping[str, Any], link_id: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(resource))
    for siblings, item in list(_walk(out.get("item", []))):
        if item.get("linkId") == link_id:
            siblings.remove(item)
            break
    return out


def move_item(resource: Mapping[str, Any], link_id: str, delta: int) -> dict[str, Any]:
    out = copy.deepcopy(dict(resource))
    for siblings, item in list(_walk(out.get("item", []))):
        if item.get("linkId") == link_id:
            i = siblings.index(item)
            j = max(0, min(len(siblings) - 1, i + delta))
            siblings.insert(j, siblings.pop(i))
            break
    return out


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]


def upsert_score(resource: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Add or replace (by code) a score: its items, reversed items, method, transform, bands."""
    out = copy.deepcopy(dict(resource))
    code = form.get("code", "").strip()
    if not code:
        raise BuilderError("a score needs a code")
    parts: list[dict[str, Any]] = [{"url": "code", "valueCode": code}]
    if form.get("display", "").strip():
        parts.append({"url": "display", "valueString": form["display"].strip()})
    parts.append({"url": "method", "valueCode": form.get("method") or "sum"})
    parts += [{"url": "item", "valueString": i} for i in _split(form.get("items", ""))]
    parts += [{"url": "reverse", "valueString": i} for i in _split(form.get("reverse", ""))]
    if form.get("transform") == "percent":
        parts.append({"url": "transform", "valueCode": "percent"})
    if form.get("flag"):
        parts.append({"url": "flag", "valueBoolean": True})
    for line in _lines(form.get("bands", "")):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 2:
            raise BuilderError(f"band {line!r}: write `min | code | display`")
        try:
            low = float(cells[0])
        except ValueError:
            raise BuilderError(f"band {line!r}: {cells[0]!r} is not a number") from None
        band = [{"url": "min", "valueDecimal": low}, {"url": "code", "valueCode": cells[1]}]
        if len(cells) > 2 and cells[2]:
            band.append({"url": "display", "valueString": cells[2]})
        parts.append({"url": "band", "extension": band})
    rule = {"url": SCORE_URL, "extension": parts}
    extensions = out.setdefault("extension", [])
    for n, ext in enumerate(extensions):
        if ext.get("url") == SCORE_URL and _code(ext) == code:
            extensions[n] = rule
            return out
    extensions.append(rule)
    return out


def _code(ext: Mapping[str, Any]) -> str:
    return next(
        (e.get("valueCode", "") for e in ext.get("extension", []) if e.get("url") == "code"), ""
    )


def delete_score(resource: Mapping[str, Any], code: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(resource))
    out["extension"] = [
        e for e in out.get("extension", []) if not (e.get("url") == SCORE_URL and _code(e) == code)
    ]
    return out


def item_form(item: Mapping[str, Any]) -> dict[str, str]:
    """An item's JSON as the builder form's initial values (the inverse of `upsert_item`)."""
    options = []
    for opt in item.get("answerOption", []):
        coding = opt.get("valueCoding", {})
        score = next(
            (
                str(e.get("valueDecimal"))
                for e in coding.get("extension", [])
                if e.get("url") == ORDINAL_URL
            ),
            "",
        )
        cells = [coding.get("code", ""), coding.get("display", "")] + ([score] if score else [])
        options.append(" | ".join(cells))
    conditions = []
    for c in item.get("enableWhen", []):
        value = next((v for k, v in c.items() if k.startswith("answer")), "")
        if isinstance(value, dict):
            value = value.get("code", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        conditions.append(f"{c.get('question')} {c.get('operator')} {value}")
    ranges = {
        e.get("url"): next((v for k, v in e.items() if k.startswith("value")), "")
        for e in item.get("extension", [])
    }
    return {
        "link_id": item.get("linkId", ""),
        "type": item.get("type", "string"),
        "text": item.get("text", ""),
        "prefix": item.get("prefix", ""),
        "required": "on" if item.get("required") else "",
        "repeats": "on" if item.get("repeats") else "",
        "options": "\n".join(options),
        "min": str(ranges.get(MIN_URL, "")),
        "max": str(ranges.get(MAX_URL, "")),
        "enable_when": "\n".join(conditions),
        "enable_behavior": item.get("enableBehavior", "all"),
    }
