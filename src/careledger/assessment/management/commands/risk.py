"""`careledger risk MODEL --input JSON` / `careledger risk --list`: run one risk model or
classification from the command line, outside any client record.

Pure computation on the numbers given: nothing is read from or written to the database, so
there is nothing to authorise or ledger (the same reason the library imports no Django). The
result is printed as JSON (indent 2, Chinese unescaped), "not applicable" included (exit 0).
`--input` takes the JSON itself, `@path/to/file.json`, or `-` for standard input. Bad JSON, an
unknown model, an unknown input name or a value of the wrong kind is a one-line error on
stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from careledger.assessment.riskmodels import MODELS, InputError

USAGE_EXIT = 2


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_EXIT)


class Command(BaseCommand):
    help = "Evaluate a risk model or guideline classification on JSON inputs (or --list them)."
    stealth_options = ("stdin",)
    # Pure computation: it needs neither the database nor the URL configuration, so it runs
    # (and fails) on its own account, not on another app's.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("model", nargs="?", help="model id, e.g. china_par (see --list)")
        parser.add_argument(
            "--input",
            dest="input_json",
            help='inputs as a JSON object, "@file.json", or "-" to read standard input',
        )
        parser.add_argument(
            "--list", action="store_true", help="list the models with their inputs (JSON)"
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["list"]:
            if options["model"] or options["input_json"]:
                raise _fail("--list takes no model and no --input")
            self._print([m.to_dict() for m in MODELS.values()])
            return
        name = options["model"]
        if not name:
            raise _fail("name a model (careledger risk --list shows them)")
        model = MODELS.get(name)
        if model is None:
            raise _fail(f"unknown model {name!r}; known: {', '.join(MODELS)}")
        if options["input_json"] is None:
            raise _fail("--input is required (a JSON object, @file.json or -)")
        inputs = self._read(options["input_json"], options.get("stdin") or sys.stdin)
        try:
            result = model.evaluate(inputs)
        except InputError as exc:
            raise _fail(str(exc)) from exc
        self._print(result.to_dict())

    def _read(self, spec: str, stdin) -> dict:  # type: ignore[no-untyped-def]
        if spec == "-":
            text, where = stdin.read(), "standard input"
        elif spec.startswith("@"):
            path = Path(spec[1:])
            try:
                text, where = path.read_text(encoding="utf-8"), str(path)
            except OSError as exc:
                raise _fail(f"cannot read {path}: {exc.strerror or exc}") from exc
        else:
            text, where = spec, "--input"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            where_at = f"{where}: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            raise _fail(f"bad JSON in {where_at}") from exc
        if not isinstance(data, dict):
            raise _fail(f"{where} must be a JSON object of input names to values")
        return data

    def _print(self, data: object) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
