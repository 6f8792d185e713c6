"""The UI is Chinese first: every English message in the code and templates has a Simplified
Chinese translation, none is fuzzy or empty, and each compiled catalogue matches its source.

Catalogues: the project-wide one in `src/careledger/locale/` and, for apps that keep their own
messages, `src/careledger/<app>/locale/` (Django searches both). Every message must be in one of
them. When this fails after you added a message: add it (translated) to the catalogue of the app
that uses it and run `make messages`.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "careledger"
PO = SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CATALOGUES = sorted(SRC.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def read_po(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (list), flags."""
    entries: list[dict[str, object]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, object] = {"flags": set(), "msgstr": []}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif m := re.match(r"^(msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line):
                key = m.group(1)
                value = _unquote(m.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)  # type: ignore[union-attr]
                else:
                    entry[key] = value
            elif line.startswith('"') and key:
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += _unquote(line)  # type: ignore[index]
                else:
                    entry[key] = str(entry[key]) + _unquote(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def python_messages() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT_NAMES
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


_TRANS = re.compile(r"""\{%\s*trans(?:late)?\s+(?P<q>["'])(?P<msg>.*?)(?P=q)""")
_UNDERSCORE = re.compile(r"""\b_\((?P<q>["'])(?P<msg>.*?)(?P=q)\)""")
_BLOCK = re.compile(
    r"\{%\s*blocktrans(?:late)?\b(?P<args>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktrans(?:late)?\s*%\}",
    re.S,
)


def template_messages() -> set[str]:
    found = set()
    for path in SRC.glob("*/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        found.update(m.group("msg") for m in _TRANS.finditer(text))
        found.update(m.group("msg") for m in _UNDERSCORE.finditer(text))
        for m in _BLOCK.finditer(text):
            singular = re.split(r"\{%\s*plural\s*%\}", m.group("body"))[0]
            found.add(re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", singular))
    return found


@pytest.fixture(scope="module")
def catalogue() -> dict[str, dict[str, object]]:
    return {str(e["msgid"]): e for po in CATALOGUES for e in read_po(po) if e["msgid"]}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(SRC)))
def test_every_entry_is_translated_and_none_is_fuzzy(po: Path) -> None:
    header = next(e for e in read_po(po) if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "nplurals=1; plural=0;" in str(header["msgstr"])
    catalogue = {str(e["msgid"]): e for e in read_po(po) if e["msgid"]}
    fuzzy = [m for m, e in catalogue.items() if "fuzzy" in e["flags"]]  # type: ignore[operator]
    empty = [m for m, e in catalogue.items() if not all(e["msgstr"])]  # type: ignore[arg-type]
    assert not fuzzy, fuzzy
    assert not empty, empty


def test_every_message_in_code_and_templates_is_in_the_catalogue(catalogue) -> None:  # type: ignore[no-untyped-def]
    missing = sorted((python_messages() | template_messages()) - set(catalogue))
    assert not missing, f"in no catalogue under src/careledger: {missing}"


def test_placeholders_survive_translation(catalogue) -> None:  # type: ignore[no-untyped-def]
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for msgid, entry in catalogue.items():
        for msgstr in entry["msgstr"]:  # type: ignore[attr-defined]
            assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(msgstr)), msgid


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(SRC)))
def test_compiled_catalogue_matches_its_source(po: Path) -> None:
    with po.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    catalogue = {str(e["msgid"]): e for e in read_po(po) if e["msgid"]}
    for msgid, entry in catalogue.items():
        if "msgid_plural" in entry:
            assert compiled.ngettext(msgid, str(entry["msgid_plural"]), 1) == entry["msgstr"][0]  # type: ignore[index]
        else:
            assert compiled.gettext(msgid) == entry["msgstr"][0], msgid  # type: ignore[index]


def test_a_message_in_several_catalogues_says_the_same_everywhere() -> None:
    """Django merges the catalogues and the first app wins, so two translations of one message
    would show one app's words on another app's page."""
    seen: dict[str, tuple[str, list[str]]] = {}
    clashes = []
    for po in CATALOGUES:
        for entry in read_po(po):
            msgid = str(entry["msgid"])
            if not msgid:
                continue
            msgstr = entry["msgstr"]  # type: ignore[assignment]
            if msgid in seen and seen[msgid][1] != msgstr:
                clashes.append((msgid, seen[msgid][0], str(po.relative_to(SRC))))
            seen.setdefault(msgid, (str(po.relative_to(SRC)), msgstr))  # type: ignore[arg-type]
    assert not clashes, clashes
