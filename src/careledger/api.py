"""The JSON API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Authentication: the browser session (with CSRF on unsafe methods) or a bearer token
(`careledger tokens create USERNAME`). Every route reaches client data only through the same
selectors and services as the pages, so the same policy and ledger apply.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from careledger.accounts.models import ApiToken
from careledger.clients.api import router as clients_router
from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.consent.models import Consent, ConsentText
from careledger.exports.models import ExportRequest
from careledger.request_context import set_actor


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        row = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.hash(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or row.expires_at <= timezone.now() or not row.user.is_active:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        request.user = row.user
        set_actor(str(row.user.id))
        return row.user


api = NinjaAPI(
    title="CareLedger API",
    version="1",
    description="康链健康管理系统 JSON API. Every call is authorised by the access policy and "
    "recorded in the audit ledger.",
    # Bearer first: SessionAuth checks CSRF and its refusal ends the search, so a token call
    # (no CSRF cookie, nothing ambient to forge) would otherwise be refused on every POST.
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api",
)
api.add_router("/clients", clients_router)
api.add_router("/clients", "careledger.observations.api.router")  # /{client_id}/trends
api.add_router("/clients/{client_id}/record", "careledger.records.api.router")
api.add_router("/ledger", "careledger.ledger.api.router")
api.add_router("/imports", "careledger.exams.api.router")
api.add_router("/clients/{client_id}/questionnaires", "careledger.questionnaires.api.router")
api.add_router("/clients/{client_id}/tags", "careledger.tagging.api.router")
api.add_router("/clients/{client_id}/risk", "careledger.assessment.api.router")
api.add_router("/config/questionnaires", "careledger.questionnaires.api.config_router")
api.add_router("/config/tag-rules", "careledger.tagging.api.config_router")
api.add_router("/config/risk-models", "careledger.assessment.api.config_router")
api.add_router("/clients/{client_id}/advice", "careledger.advice.api.router")
api.add_router("/config/advice", "careledger.advice.api.config_router")
api.add_router("/clients/{client_id}/consents", "careledger.consent.api.router")
api.add_router("/config/consents", "careledger.consent.api.config_router")
api.add_router("/clients/{client_id}/orders", "careledger.store.api.router")
api.add_router("/payments", "careledger.store.api.payments_router")  # provider callbacks
api.add_router("/clients/{client_id}/membership", "careledger.membership.api.router")
api.add_router("/config/membership", "careledger.membership.api.config_router")
api.add_router("/clients/{client_id}/report", "careledger.reports.api.router")
api.add_router("/reports", "careledger.reports.api.public_router")  # public key only
api.add_router("/exports", "careledger.exports.api.router")  # institution-level
api.add_router("/clients/{client_id}/bookings", "careledger.booking.api.router")
api.add_router("/bookings/desk", "careledger.booking.api.desk_router")
api.add_router("/config/packages", "careledger.booking.api.config_router")
api.add_router("/followup", "careledger.followup.api.router")  # queue and tasks (own teams)
api.add_router("/clients/{client_id}/followup", "careledger.followup.api.client_router")
api.add_router("/config/followup-plans", "careledger.followup.api.config_router")


@api.exception_handler(PermissionDenied)
def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "forbidden"}, status=403)


@api.exception_handler(Client.DoesNotExist)
def on_missing(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "not found"}, status=404)


api.add_exception_handler(Consent.DoesNotExist, on_missing)
api.add_exception_handler(ConsentText.DoesNotExist, on_missing)


@api.exception_handler(ExportRequest.DoesNotExist)
def on_missing_export(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "not found"}, status=404)


@api.exception_handler(ValidationFailed)
def on_invalid(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return api.create_response(request, {"detail": "invalid", "errors": exc.errors}, status=422)
