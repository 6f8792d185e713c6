"""Every security header and cookie flag on real page answers, with CARELEDGER_HTTPS off and on.

The settings are computed from the environment exactly as at start-up (settings.py is run
again with the variable set) and then applied to this test's settings, so the test covers the
env → settings mapping as well as what the middleware sends.
"""

from __future__ import annotations

import runpy

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from careledger import settings as settings_module
from conftest import TEST_PASSWORD, totp_code, totp_device

pytestmark = pytest.mark.django_db

FROM_ENV = [
    "HTTPS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
]


@pytest.fixture(params=[False, True], ids=["http", "https"])
def https(request, monkeypatch, settings):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CARELEDGER_HTTPS", "1" if request.param else "0")
    computed = runpy.run_path(settings_module.__file__)
    for name in FROM_ENV:
        setattr(settings, name, computed[name])
    return request.param


def check_page_headers(response, https: bool) -> None:  # type: ignore[no-untyped-def]
    h = response.headers
    csp = h["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'self'",
    ):
        assert directive in csp, directive
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["Cross-Origin-Opener-Policy"] == "same-origin"
    assert h["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
    assert h["Cache-Control"] == "no-store"
    if https:
        assert h["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    else:
        assert "Strict-Transport-Security" not in h


def check_cookie(morsel, https: bool, *, httponly: bool) -> None:  # type: ignore[no-untyped-def]
    assert morsel["samesite"] == "Lax"
    assert bool(morsel["secure"]) is https
    assert bool(morsel["httponly"]) is httponly
    assert morsel["path"] == "/"
    assert not morsel["domain"]
    if https:
        assert morsel.key.startswith("__Host-")


def test_every_header_and_cookie_flag(world, https):  # type: ignore[no-untyped-def]
    http = HttpClient()
    login_page = http.get(reverse("web:login"), secure=https)
    assert login_page.status_code == 200
    check_page_headers(login_page, https)
    from django.conf import settings

    check_cookie(login_page.cookies[settings.CSRF_COOKIE_NAME], https, httponly=False)

    device = totp_device(world.manager)
    answer = http.post(
        reverse("web:login"), {"username": "manager", "password": TEST_PASSWORD}, secure=https
    )
    assert answer.status_code == 302
    check_cookie(answer.cookies[settings.SESSION_COOKIE_NAME], https, httponly=True)
    assert answer.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""  # ends with the browser
    http.post(reverse("accounts:mfa_verify"), {"code": totp_code(device)}, secure=https)
    for url in (reverse("web:home"), reverse("clients:list"), reverse("accounts:overview")):
        page = http.get(url, secure=https)
        assert page.status_code == 200, url
        check_page_headers(page, https)
    api = http.get("/api/clients/", secure=https)
    assert api.status_code == 200 and api["Cache-Control"] == "no-store"


def test_plain_http_is_sent_to_https_when_https_is_on(db, https):  # type: ignore[no-untyped-def]
    response = HttpClient().get(reverse("web:login"))
    if https:
        assert response.status_code == 301
        assert response["Location"] == "https://testserver/login/"
    else:
        assert response.status_code == 200


def test_behind_a_tls_proxy_the_forwarded_scheme_counts_only_when_https_is_on(db, https):  # type: ignore[no-untyped-def]
    response = HttpClient().get(reverse("web:login"), HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert ("Strict-Transport-Security" in response.headers) is https
