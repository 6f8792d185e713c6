"""The FHIR R4 API at /fhir/R4/ (django-ninja; JSON as application/fhir+json).

Routes (see `resources.capability_statement` for what each answers):

    GET  metadata                         CapabilityStatement (public)
    GET  .well-known/smart-configuration  token endpoint and scopes (public)
    GET  .well-known/jwks.json            share and ledger public keys (public)
    POST auth/token                       OAuth 2 client credentials (public; `fhirapi.urls`)
    GET  $share/{grant}                   the signed share Bundle (partners; application/jose)
    GET  Patient/{id}/$everything         a Bundle of everything the caller may see
    GET  {type}/{id}                      read
    GET  {type}?patient=…                 search
    POST /                                import a Bundle (staff with exam.import)

Views are thin: parse, call one selector or service, validate, answer. Errors are
OperationOutcome resources with a FHIR issue code and a plain reason.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from careledger.access.enforce import AccessDenied, require
from careledger.access.roles import Action
from careledger.fhirapi import gather, resources, selectors
from careledger.fhirapi.auth import FhirBearer, StaffSession, principal_of
from careledger.fhirapi.params import SearchError, parse
from careledger.fhirapi.validate import InvalidResource, validate
from careledger.sharing import categories
from careledger.sharing.models import ShareGrant

FHIR_JSON = "application/fhir+json"
NOTES = {
    "CarePlan": (
        "No care plans are kept yet (健康干预 interventions are not built): searches answer an "
        "empty Bundle and reads 404. Nothing is invented."
    ),
    "AuditEvent": "Staff of the client's care team only; never shared with partners.",
    "Patient": "Name, gender and birth date only; no ID number, phone or address.",
}

fhir_api = NinjaAPI(
    title="CareLedger FHIR R4",
    version="R4",
    urls_namespace="fhir",
    auth=[FhirBearer(), StaffSession()],
    openapi_url=None,
    docs_url=None,
)


def answer(data: dict[str, Any], status: int = 200, *, check: bool = True) -> HttpResponse:
    if check:
        validate(data)
    return HttpResponse(orjson.dumps(data), status=status, content_type=FHIR_JSON)


def outcome(status: int, code: str, diagnostics: str) -> HttpResponse:
    return answer(resources.operation_outcome(code, diagnostics), status, check=False)


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/R4").rstrip("/")


@fhir_api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = outcome(401, "login", "a partner access token or a staff session is required")
    response["WWW-Authenticate"] = 'Bearer realm="careledger-fhir"'
    return response


@fhir_api.exception_handler(PermissionDenied)
def on_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    reason = exc.decision.reason if isinstance(exc, AccessDenied) else "forbidden"
    return outcome(403, "forbidden", reason)


@fhir_api.exception_handler(selectors.NotFound)
def on_missing(request: HttpRequest, exc: Exception) -> HttpResponse:
    return outcome(404, "not-found", "no such resource")


@fhir_api.exception_handler(ShareGrant.DoesNotExist)
def on_no_grant(request: HttpRequest, exc: Exception) -> HttpResponse:
    return outcome(404, "not-found", "no such share grant")


@fhir_api.exception_handler(SearchError)
def on_bad_search(request: HttpRequest, exc: Exception) -> HttpResponse:
    return outcome(400, getattr(exc, "code", "invalid"), str(exc))


@fhir_api.exception_handler(InvalidResource)
def on_invalid_output(request: HttpRequest, exc: Exception) -> HttpResponse:
    return outcome(500, "exception", "a resource failed FHIR validation; nothing was sent")


@fhir_api.get("/metadata", auth=None)
def metadata(request: HttpRequest) -> HttpResponse:
    base = base_url(request)
    return answer(
        resources.capability_statement(
            base=base,
            software_version="1",
            now=timezone.now(),
            token_url=request.build_absolute_uri(reverse("fhirapi:token")),
            notes=NOTES,
            scopes=categories.all_scopes(),
        )
    )


@fhir_api.get("/.well-known/smart-configuration", auth=None)
def smart_configuration(request: HttpRequest) -> HttpResponse:
    data = {
        "token_endpoint": request.build_absolute_uri(reverse("fhirapi:token")),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": categories.all_scopes(),
        "capabilities": ["client-confidential-symmetric"],
        "jwks_uri": request.build_absolute_uri("/fhir/R4/.well-known/jwks.json"),
    }
    return HttpResponse(orjson.dumps(data), content_type="application/json")


@fhir_api.get("/.well-known/jwks.json", auth=None)
def jwks(request: HttpRequest) -> HttpResponse:
    from careledger.sharing.services import published_keys

    return HttpResponse(orjson.dumps(published_keys()), content_type="application/jwk-set+json")


@fhir_api.get("/$share/{grant_id}")
def share(request: HttpRequest, grant_id: uuid.UUID) -> HttpResponse:
    """The signed share Bundle (compact JWS) of one grant, for its recipient only."""
    from careledger.sharing.principal import PartnerPrincipal
    from careledger.sharing.services import do_fetch_share

    principal = principal_of(request)
    if not isinstance(principal, PartnerPrincipal):
        # Staff read through the API itself; a share is what a partner fetches.
        require(principal, Action.SHARE_FETCH, purpose="share")
    result = do_fetch_share(principal=principal, grant_id=grant_id, base=base_url(request))
    response = HttpResponse(result.token, content_type="application/jose")
    response["Content-Disposition"] = f'attachment; filename="share-{grant_id}.jws"'
    return response


@fhir_api.get("/Patient/{client_id}/$everything")
def everything(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    read = selectors.everything(principal_of(request), client_id)
    base = base_url(request)
    return answer(
        resources.searchset(read.resources, base=base, self_url=request.build_absolute_uri())
    )


def _type(rtype: str) -> str:
    if rtype not in gather.TYPES:
        raise SearchError(
            f"{rtype[:40]} is not served here; see /fhir/R4/metadata", code="not-supported"
        )
    return rtype


@fhir_api.get("/{rtype}/{rid}")
def read(request: HttpRequest, rtype: str, rid: str) -> HttpResponse:
    if _type(rtype) == "CarePlan":
        raise selectors.NotFound(rid)
    return answer(selectors.read(principal_of(request), rtype, rid))


@fhir_api.get("/{rtype}")
def search(request: HttpRequest, rtype: str) -> HttpResponse:
    query = parse(_type(rtype), {k: request.GET.getlist(k) for k in request.GET})
    found = selectors.search(principal_of(request), rtype, query)
    return answer(
        resources.searchset(
            found.resources, base=base_url(request), self_url=request.build_absolute_uri()
        )
    )


@fhir_api.post("/")
def import_bundle(request: HttpRequest) -> HttpResponse:
    """A Bundle of DiagnosticReports and Observations lands through the report-sync pipeline
    (the same parser, matching, quarantine and ledger as `/imports/`)."""
    from careledger.exams.services import ImportRefused, do_create_import

    user = principal_of(request)
    require(user, Action.EXAM_IMPORT, purpose="import")  # a partner is refused here, ledgered
    try:
        data = request.body
    except RawPostDataException:  # a form post, already parsed: not a Bundle
        return outcome(415, "not-supported", "send the Bundle as application/fhir+json")
    if len(data) > settings.CARELEDGER_IMPORT_MAX_MB * 1024 * 1024:
        return outcome(413, "too-long", "the Bundle is larger than CARELEDGER_IMPORT_MAX_MB")
    try:
        job = do_create_import(
            actor=user, filename="fhir-bundle.json", data=data, fmt="fhir", channel="fhir"
        )
    except ImportRefused as exc:
        return outcome(400, "invalid", str(exc))
    response = answer(
        resources.operation_outcome(
            "informational",
            f"import job {job.id} accepted; progress at /imports/{job.id}/",
            severity="information",
        ),
        202,
        check=False,
    )
    response["Content-Location"] = f"/imports/{job.id}/"
    return response
