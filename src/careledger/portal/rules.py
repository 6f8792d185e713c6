"""The portal's login rules, as plain functions over plain values. Pure: no Django.

One-time codes: six random digits (`secrets`), valid for five minutes, good for one sign-in,
and burnt after five wrong entries. A six-digit code is only a million guesses, so what keeps it
safe is how few guesses anyone gets: five per code, and few codes (one a minute and five an hour
per phone number, twenty an hour per network address). Those limits are counted from the
challenges themselves, which are created alike for numbers that are registered and numbers that
are not, so the limits cannot be used to tell the two apart either.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

CODE_DIGITS = 6
CODE_TTL = dt.timedelta(minutes=5)
MAX_TRIES = 5
PHONE_INTERVAL = dt.timedelta(seconds=60)
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20
HOUR = dt.timedelta(hours=1)

OPEN = "open"
EXPIRED = "expired"
USED = "used"
BURNT = "burnt"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(raw: str) -> str | None:
    """Digits as typed on a phone (full-width too, spaces allowed); None if not a code."""
    text = "".join(unicodedata.normalize("NFKC", raw or "").split())
    if len(text) == CODE_DIGITS and text.isascii() and text.isdigit():
        return text
    return None


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    reason: str = ""
    retry_after: int = 0  # seconds


def _wait(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


def rate_limit(
    phone_times: Sequence[dt.datetime], ip_times: Sequence[dt.datetime], now: dt.datetime
) -> RateDecision:
    """May one more code be sent? `*_times` are when earlier codes were asked for."""
    hour_ago = now - HOUR
    phone_recent = sorted(t for t in phone_times if t > hour_ago)
    ip_recent = sorted(t for t in ip_times if t > hour_ago)
    if phone_recent and phone_recent[-1] > now - PHONE_INTERVAL:
        return RateDecision(False, "phone_interval", _wait(phone_recent[-1] + PHONE_INTERVAL, now))
    if len(phone_recent) >= PHONE_PER_HOUR:
        oldest = phone_recent[-PHONE_PER_HOUR]
        return RateDecision(False, "phone_hourly", _wait(oldest + HOUR, now))
    if len(ip_recent) >= IP_PER_HOUR:
        oldest = ip_recent[-IP_PER_HOUR]
        return RateDecision(False, "ip_hourly", _wait(oldest + HOUR, now))
    return RateDecision(True)


def challenge_state(
    *,
    expires_at: dt.datetime,
    used_at: dt.datetime | None,
    burnt_at: dt.datetime | None,
    now: dt.datetime,
) -> str:
    if used_at is not None:
        return USED
    if burnt_at is not None:
        return BURNT
    if now >= expires_at:
        return EXPIRED
    return OPEN


def after_wrong_try(attempts: int) -> tuple[int, bool]:
    """The new try count after a wrong code, and whether the code is now burnt."""
    attempts += 1
    return attempts, attempts >= MAX_TRIES
