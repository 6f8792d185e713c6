"""Applicability keys: what a piece of advice answers, as plain strings (pure, no Django).

Three families, documented in `catalogue/vocabulary.toml` and docs/decisions/0010:

* `tag:<tag code>` — an active tag of the client (careledger.tagging), e.g. `tag:hypertension`;
* `risk:<model id>:<level code>` — the latest level of a risk model or classification, e.g.
  `risk:bp_grade:grade1`, `risk:phq9:moderate`;
* `constitution:<code>` — a TCM constitution (中医体质) the client was judged to have.

Keys are compared as exact strings after normalisation (trimmed, lower case): a key is a fact
the client has or has not, never a pattern. The vocabulary only names keys for people (the
reasons on a sheet) and lets the editor warn about a key no source produces; a key outside it
still matches, so an institution's own tag codes work without a code change.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FAMILIES = ("tag", "risk", "constitution")
_CODE = r"[a-z0-9][a-z0-9_.\-]*"
_PATTERNS = {
    "tag": re.compile(rf"^tag:({_CODE})$"),
    "risk": re.compile(rf"^risk:({_CODE}):({_CODE})$"),
    "constitution": re.compile(rf"^constitution:({_CODE})$"),
}
VOCABULARY_FILE = Path(__file__).with_name("catalogue") / "vocabulary.toml"


class InvalidKey(ValueError):
    """A key that is not of one of the three families (the message says which part is wrong)."""


@dataclass(frozen=True)
class Key:
    family: str
    code: str  # tag code, model id or constitution code
    level: str = ""  # risk keys only

    def __str__(self) -> str:
        if self.family == "risk":
            return f"risk:{self.code}:{self.level}"
        return f"{self.family}:{self.code}"


def normalise(raw: str) -> str:
    return raw.strip().lower()


def parse(raw: str) -> Key:
    """`Key` of a key string; `InvalidKey` naming the problem otherwise."""
    text = normalise(raw)
    family = text.split(":", 1)[0]
    if family not in _PATTERNS:
        raise InvalidKey(
            f"“{raw}”: a key starts with tag:, risk: or constitution: (e.g. tag:hypertension)"
        )
    found = _PATTERNS[family].match(text)
    if found is None:
        shapes = {
            "tag": "tag:<tag code>",
            "risk": "risk:<model id>:<level>",
            "constitution": "constitution:<code>",
        }
        raise InvalidKey(f"“{raw}”: expected {shapes[family]}")
    return Key(family, *found.groups())


def tag(code: str) -> str:
    return str(Key("tag", normalise(code)))


def risk(model: str, level: str) -> str:
    return str(Key("risk", normalise(model), normalise(level)))


def constitution(code: str) -> str:
    return str(Key("constitution", normalise(code)))


@dataclass(frozen=True)
class Vocabulary:
    tags: dict[str, tuple[str, str]]  # code -> (zh, en)
    models: dict[str, tuple[str, str]]  # model id -> (zh, en)
    levels: dict[str, dict[str, tuple[str, str]]]  # model id -> level -> (zh, en)
    constitutions: dict[str, tuple[str, str]]

    def known(self, raw: str) -> bool:
        key = parse(raw)
        if key.family == "tag":
            return key.code in self.tags
        if key.family == "constitution":
            return key.code in self.constitutions
        return key.level in self.levels.get(key.code, {})

    def all_keys(self) -> list[str]:
        out = [tag(c) for c in self.tags]
        out += [risk(m, lv) for m, levels in self.levels.items() for lv in levels]
        out += [constitution(c) for c in self.constitutions]
        return out

    def label(self, raw: str, lang: str = "zh", extra_tags: dict[str, str] | None = None) -> str:
        """A key in words: "血压分级 1级高血压", "高血压", "气虚质". Unknown parts show as codes;
        `extra_tags` (code -> name) names an institution's own tags."""
        key = parse(raw)
        i = 0 if lang.startswith("zh") else 1
        if key.family == "tag":
            if extra_tags and key.code in extra_tags:
                return extra_tags[key.code]
            return self.tags.get(key.code, (key.code, key.code))[i]
        if key.family == "constitution":
            return self.constitutions.get(key.code, (key.code, key.code))[i]
        model = self.models.get(key.code, (key.code, key.code))[i]
        level = self.levels.get(key.code, {}).get(key.level, (key.level, key.level))[i]
        return f"{model} {level}"


def _pair(entry: dict[str, str] | list[str]) -> tuple[str, str]:
    if isinstance(entry, list):
        return entry[0], entry[1]
    return entry["zh"], entry.get("en", entry["zh"])


@cache
def vocabulary() -> Vocabulary:
    data = tomllib.loads(VOCABULARY_FILE.read_text("utf-8"))
    models = data["models"]
    return Vocabulary(
        tags={code: _pair(v) for code, v in data["tags"].items()},
        models={mid: _pair(m) for mid, m in models.items()},
        levels={mid: {lv: _pair(p) for lv, p in m["levels"].items()} for mid, m in models.items()},
        constitutions={code: _pair(v) for code, v in data["constitutions"].items()},
    )
