"""The `careledger` command: Django's management commands under the product's own name
(`careledger keys rotate`, `careledger seed-demo`, `careledger migrate`, …)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careledger.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # `careledger keys rotate` → the `keys` command with `rotate`; hyphenated names map to
    # underscores (`seed-demo` → `seed_demo`).
    if len(argv) > 1:
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
