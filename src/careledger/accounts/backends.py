"""The one authentication backend: django-axes' lockout check, then Django's ModelBackend.

Why one class instead of axes' recommended pair (AxesStandaloneBackend, ModelBackend):
the three ways a sign-in can fail must look alike from outside — same page, same status and
about the same time — so that the answer never tells which usernames exist or which are locked.
ModelBackend already runs the password hasher once for an unknown name (a dummy
`set_password`) and once for a wrong password (`check_password`), but not for an account
without a usable password (a portal client), and axes refuses a locked-out attempt *before*
any hashing: both would be measurably faster than the others. Here every path runs the hasher
exactly once (tested by counting calls).

The refusal itself stays axes' (`AxesBackendPermissionDenied`): `django.contrib.auth.authenticate`
catches it, sends `user_login_failed` (axes counts the attempt, extending the cool-off) and
returns None, so the login form shows its single "username or password is incorrect" error.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import get_user_model
from django.http import HttpRequest


def burn_one_hash(password: str | None) -> None:
    """Cost one password hash, as ModelBackend does for a user that does not exist."""
    get_user_model()().set_password(password or "")


class StaffBackend(AxesBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        try:
            # Returns None when the attempt is allowed; raises when the name or IP is locked.
            super().authenticate(request, username, password, **kwargs)
        except AxesBackendPermissionDenied:
            burn_one_hash(password)
            raise
        return self._check_password(username, password, **kwargs)

    def _check_password(self, username: str | None, password: str | None, **kwargs: Any) -> Any:
        """ModelBackend.authenticate, except that an account without a usable password (portal
        clients sign in by phone code) costs a hash too instead of failing instantly."""
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            burn_one_hash(password)
            return None
        if not user.has_usable_password():
            burn_one_hash(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
