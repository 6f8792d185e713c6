"""`careledger risk`: through call_command and as the installed command in a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from careledger.assessment.riskmodels import MODELS

CARELEDGER_BIN = Path(sys.executable).with_name("careledger")
WOMAN_60 = {
    "age": 60, "sex": "female", "sbp": 130, "bp_treated": False, "tc": 210 * 0.0259,
    "hdl": 55 * 0.0259, "waist": 80, "smoker": False, "diabetes": True, "north": True,
}  # fmt: skip


def run(*args: str, stdin: str | None = None) -> dict:
    out = io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("risk", *args, stdout=out, **extra)
    return json.loads(out.getvalue())


def test_prints_the_result_as_json() -> None:
    data = run("china_par", "--input", json.dumps(WOMAN_60))
    assert data["model"] == "china_par" and data["applicable"] is True
    assert data["value"] == pytest.approx(10.1, abs=0.1)
    assert data["level"] == "high"


def test_chinese_is_not_escaped_and_indented() -> None:
    out = io.StringIO()
    call_command("risk", "gad7", "--input", '{"gad7": 12}', stdout=out)
    text = out.getvalue()
    assert "中度焦虑" in text and "\\u" not in text
    assert text.startswith('{\n  "model": "gad7"')


def test_not_applicable_is_printed_too() -> None:
    data = run("pce_2013", "--input", '{"age": 30}')
    assert data["applicable"] is False
    assert data["reasons"][0]["input"] == "age"


def test_input_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"phq9": 16}), encoding="utf-8")
    assert run("phq9", "--input", f"@{path}")["level"] == "moderately_severe"
    assert run("phq9", "--input", "-", stdin='{"phq9": 2}')["level"] == "minimal"


def test_list_shows_every_model_with_its_inputs() -> None:
    listed = run("--list")
    assert [m["id"] for m in listed] == list(MODELS)
    china = listed[0]
    assert china["citation"].startswith("Yang X")
    sbp = next(i for i in china["inputs"] if i["name"] == "sbp")
    assert (sbp["loinc"], sbp["unit"], sbp["minimum"], sbp["maximum"]) == (
        "8480-6",
        "mm[Hg]",
        70,
        200,
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("nope", "--input", "{}"), "unknown model 'nope'"),
        (("gad7", "--input", "{bad"), "bad JSON in --input"),
        (("gad7", "--input", "[1, 2]"), "must be a JSON object"),
        (("gad7", "--input", '{"gad7": 5, "phq9": 3}'), "gad7: phq9: unknown input"),
        (("gad7", "--input", '{"gad7": "five"}'), "expected a number"),
        (("gad7",), "--input is required"),
        ((), "name a model"),
        (("gad7", "--input", "@/nonexistent/in.json"), "cannot read"),
        (("--list", "gad7"), "--list takes no model"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("risk", *args, stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def _cli(*args: str, stdin: str | None = None, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CARELEDGER_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(  # noqa: S603 (our own entry point, fixed arguments)
        [str(CARELEDGER_BIN), "risk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_installed_command_success_and_failures(tmp_path: Path) -> None:
    ok = _cli("china_par", "--input", json.dumps(WOMAN_60), tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["level"] == "high"
    piped = _cli("bp_grade", "--input", "-", stdin='{"sbp": 182, "dbp": 95}', tmp_path=tmp_path)
    assert json.loads(piped.stdout)["level"] == "grade_3"
    for args in (
        ("nope", "--input", "{}"),
        ("gad7", "--input", "{bad"),
        ("gad7", "--input", '{"x": 1}'),
    ):
        bad = _cli(*args, tmp_path=tmp_path)
        assert bad.returncode == 2, args
        assert bad.stdout == ""
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    listed = _cli("--list", tmp_path=tmp_path)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == len(MODELS)
