"""Who is calling the FHIR API: a partner (OAuth 2 bearer token) or staff (session or API token).

Partners present an access token from `/fhir/R4/auth/token` (client credentials); it is checked
by django-oauth-toolkit's own `verify_request` (signature-free opaque token: looked up, expiry
and revocation checked), and must belong to an active `Partner`. The caller becomes a
`PartnerPrincipal` carrying the token's scopes. A bearer that is not an OAuth token is tried as
a staff API token (`careledger tokens create`), and a signed-in staff session works too (with
CSRF on unsafe methods) — both then face the same care-team policy as the pages.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from oauth2_provider.oauth2_backends import get_oauthlib_core

from careledger.request_context import set_actor
from careledger.sharing.models import Partner
from careledger.sharing.principal import PartnerPrincipal


def partner_from_token(request: HttpRequest) -> PartnerPrincipal | None:
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid or oauth_request is None or oauth_request.access_token is None:
        return None
    token = oauth_request.access_token
    partner = (
        Partner.objects.select_related("institution")
        .filter(application_id=token.application_id, is_active=True)
        .first()
    )
    if partner is None:
        return None
    principal = PartnerPrincipal(
        partner=partner, scopes=frozenset((token.scope or "").split()), token_id=str(token.pk)
    )
    set_actor(str(partner.id))
    return principal


class FhirBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        principal = partner_from_token(request)
        if principal is not None:
            request.fhir_principal = principal  # type: ignore[attr-defined]
            return principal
        from careledger.api import BearerToken

        user = BearerToken().authenticate(request, token)
        if user is not None:
            request.fhir_principal = user  # type: ignore[attr-defined]
        return user


class StaffSession(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is not None:
            request.fhir_principal = user  # type: ignore[attr-defined]
        return user


def principal_of(request: HttpRequest) -> Any:
    return getattr(request, "fhir_principal", None) or request.user
