"""Second factor for staff: django-otp TOTP devices plus static backup codes.

Every staff role (all but "client") must pass TOTP after the password. Choices:

* One TOTP device per user ("authenticator"): RFC 6238, 30-second steps, 6 digits, tolerance
  ±1 step for clock drift. django-otp stores the last accepted step (`last_t`) and only
  accepts later steps, so a code cannot be replayed, not even inside its own 90-second window.
  Failed codes are throttled by django-otp (exponential back-off per device).
* Ten static backup codes (django-otp `StaticDevice`), each deleted on use; regenerating
  replaces them all. They are shown once, when made.
* The QR code is rendered server-side as inline SVG markup (`qrcode`): the CSP forbids inline
  scripts and external images, and the secret must not travel to a third-party QR service.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import django_otp
import qrcode
import qrcode.image.svg
from django.utils.html import escape
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.accounts.models import User
from careledger.ledger import services as ledger

BACKUP_CODE_COUNT = 10
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup codes"
ANONYMOUS = ledger.Actor(id="anonymous", role="anonymous", institution_id="")
_DIGITS = re.compile(r"^\d{6}$")


def username_hash(username: str) -> str:
    """What failure events carry instead of the name: lets the ledger group attempts."""
    return hashlib.sha256((username or "").strip().lower().encode()).hexdigest()


def needs_mfa(user: Any) -> bool:
    """Every authenticated role except portal clients (their factor is the phone code)."""
    return bool(getattr(user, "is_authenticated", False)) and user.role != "client"


def confirmed_totp(user: User | None) -> TOTPDevice | None:
    if user is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (kept across reloads so one scan is enough)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def verify_totp(user: User, code: str, *, device: TOTPDevice | None = None) -> bool:
    """Check a TOTP code against the user's confirmed device (or `device` during enrolment)."""
    code = normalise(code)
    device = device or confirmed_totp(user)
    if device is None or not _DIGITS.match(code):
        if device is not None:
            device.throttle_increment()
        return False
    return django_otp.verify_token(user, device.persistent_id, code) is not None


def verify_backup(user: User, code: str) -> StaticDevice | None:
    """The user's backup-code device if it accepted `code` (spending it), else None."""
    code = normalise(code)
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not code:
        return None
    accepted = django_otp.verify_token(user, device.persistent_id, code) is not None
    return device if accepted else None


def verify_any(user: User, code: str) -> tuple[Any, str] | tuple[None, str]:
    """(device that accepted the code, "totp" | "backup"), or (None, method tried)."""
    if _DIGITS.match(normalise(code)):
        device = confirmed_totp(user)
        ok = device is not None and verify_totp(user, code, device=device)
        return (device, "totp") if ok else (None, "totp")
    return verify_backup(user, code), "backup"


def throttled(user: User) -> bool:
    """True while django-otp makes the user wait after wrong codes."""
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, confirmed=True):
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                return True
    return False


def new_backup_codes(user: User, count: int = BACKUP_CODE_COUNT) -> list[str]:
    """Replace the user's backup codes; returns the new ones (shown once, never again)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def remove_all_devices(user: User) -> int:
    """MFA reset: the user must enrol again at their next sign-in."""
    devices = 0
    for model in (TOTPDevice, StaticDevice):
        rows = model.objects.filter(user=user)
        devices += rows.count()
        rows.delete()  # static devices take their tokens with them
    return devices


def secret_text(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an authenticator by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(uri: str, *, label: str, size: int = 220) -> str:
    """The otpauth:// URI as inline SVG markup (no script, no style, no external image)."""
    image = qrcode.make(
        uri,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    svg = image.to_string(encoding="unicode")
    # Pixel size as SVG attributes (not a style attribute: the CSP allows no inline styles).
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', f'<svg width="{size}" height="{size}"', svg)
    return svg.replace("<svg ", f'<svg class="mfa-qr" role="img" aria-label="{escape(label)}" ', 1)
