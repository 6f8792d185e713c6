"""OAuth 2 for partner institutions: django-oauth-toolkit, client credentials, SMART scopes.

Why django-oauth-toolkit: it is the maintained OAuth 2 server for Django (oauthlib underneath),
hashes client secrets, expires tokens and speaks RFC 6749/6750 errors; we add only our rules:

* `PartnerScopes`: a client may be given only the scopes its `Partner` was registered with, and
  none when the partner is deactivated (so no new token is issued); the scopes are SMART system
  scopes (`system/Observation.read`, `system/*.read`, see `categories.all_scopes`).
* `PartnerValidator`: only applications that belong to an active partner authenticate at all,
  and only with the client-credentials grant.
* `PartnerTokenView`: the token endpoint, ledgered: every issued token and every refusal is an
  event (`partner.token`, the partner and the client id of the OAuth client, never the secret).

The token a partner then presents to `/fhir/R4/` is checked by `fhirapi.auth` through the same
library (`verify_request`), which also checks expiry and revocation.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.views import TokenView

from careledger.ledger import services as ledger
from careledger.sharing import categories

TOKEN_ACTION = "partner.token"  # noqa: S105 - an action code, not a secret


def _partner_of(application: Any):  # type: ignore[no-untyped-def]
    from careledger.sharing.models import Partner

    if application is None:
        return None
    return Partner.objects.filter(application_id=application.pk, is_active=True).first()


class PartnerScopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return {scope: scope for scope in categories.all_scopes()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        partner = _partner_of(application)
        if partner is None:
            return []
        if categories.ALL_TYPES_SCOPE in partner.scopes:  # every type: any narrower scope too
            return categories.all_scopes()
        return list(partner.scopes)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        partner = _partner_of(application)
        return list(partner.scopes) if partner else []


class PartnerValidator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        return _partner_of(request.client) is not None

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return grant_type == "client_credentials" and super().validate_grant_type(
            client_id, grant_type, client, request, *args, **kwargs
        )


def _ledger_token(request: HttpRequest, status: int, body: bytes) -> None:
    from oauth2_provider.models import Application

    from careledger.sharing.models import Partner

    client_id = (request.POST.get("client_id") or "")[:100]
    if not client_id and request.headers.get("Authorization", "").startswith("Basic "):
        import base64
        import binascii

        try:
            raw = base64.b64decode(request.headers["Authorization"][6:]).decode("utf-8")
            client_id = raw.split(":", 1)[0][:100]
        except (binascii.Error, UnicodeDecodeError):
            client_id = ""
    app = Application.objects.filter(client_id=client_id).first() if client_id else None
    partner = Partner.objects.filter(application=app).first() if app else None
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        answer = {}
    actor = ledger.Actor(
        id=str(partner.id) if partner else "anonymous",
        role="partner" if partner else "anonymous",
        institution_id=str(partner.institution_id) if partner else "",
    )
    with transaction.atomic():
        ledger.record(
            actor=actor,
            action=TOKEN_ACTION,
            outcome=ledger.Outcome.ALLOWED if status == 200 else ledger.Outcome.DENIED,
            purpose="share",
            resource_type="OAuthClient" if app else "",
            resource_id=str(app.pk) if app else "",
            detail=(
                {"scope": str(answer.get("scope", ""))}
                if status == 200
                else {"reason": str(answer.get("error", "invalid_request"))[:40]}
            ),
        )


@method_decorator(csrf_exempt, name="dispatch")
class PartnerTokenView(TokenView):
    """POST grant_type=client_credentials (client id and secret by HTTP Basic or in the body)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        _ledger_token(request, response.status_code, response.content)
        return response
