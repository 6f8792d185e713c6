"""Shared bits of the parser tests (pure: no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from careledger.exams.parsers.types import ParseOutcome

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)

# Synthetic GB 11643 numbers (valid check digits, no real person).
ID_A = "110105199003070025"
ID_B = "440304197512124564"
ID_C = "310115196808153211"
ID_D = "33010219800101123X"
BAD_CHECK = "110105199003070026"  # ID_A with a wrong check digit


def fixture(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def assert_no_phi_in_problems(outcome: ParseOutcome, *secrets: str) -> None:
    """Problem messages are stored beside the sealed payload: no identifier, no name."""
    for problem in outcome.problems:
        for secret in secrets:
            assert secret not in problem.message, (secret, problem)
            assert secret not in problem.location, (secret, problem)
            assert secret not in problem.field, (secret, problem)


def oru(
    n: int = 1,
    *,
    pid: str = f"PID|1||C0001^^^^MB~{ID_A}^^^^NI||张^三||19900307|F",
    obr: str = "OBR|1||R-{n}|LAB^化验|||20240105080000",
    obx: tuple[str, ...] = ("OBX|1|NM|GLU^血糖^L||5.6|mmol/L|3.9-6.1|N|||F",),
    msh_time: str = "20240105090000",
    msg_type: str = "ORU^R01",
) -> str:
    """One message, \\r-separated, with placeholders {n} filled."""
    segments = [
        f"MSH|^~\\&|LIS|LAB|||{msh_time}||{msg_type}|M{n}|P|2.4",
        pid,
        obr.format(n=n),
        *obx,
    ]
    return "\r".join(s for s in segments if s) + "\r"
