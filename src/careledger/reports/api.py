"""Report routes of the JSON API.

`router`, mounted at /api/clients/{client_id}/report: `GET` the preview (the content the PDF
will hold, as JSON) and `GET|POST /pdf?purpose=…` the sealed, watermarked PDF (each call is a
print: ledgered, recorded, a new print id). `public_router`, mounted at /api/reports: `GET
/public-key`, public, the institution's report-signing keys (current and retired) that anyone
checks a report's QR code against. Thin wrappers over the page's selector and service.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Path, Query, Router, Schema

from careledger.crypto import signing
from careledger.reports import fonts, selectors, services
from careledger.reports.views import pdf_response

router = Router(tags=["reports"])
public_router = Router(tags=["reports"])


class PrintRead(Schema):
    id: uuid.UUID
    printed_by: str
    role: str
    purpose: str
    sha256: str
    pages: int
    created_at: Any


class PreviewRead(Schema):
    content: dict[str, Any]
    prints: list[PrintRead]


class PrintAsk(Schema):
    purpose: str = ""


class ReportKeyRead(Schema):
    key_id: str
    public_key: str  # raw Ed25519 public key, base64
    algorithm: str = "Ed25519"


class ReportKeysRead(Schema):
    purpose: str
    keys: list[ReportKeyRead]


@router.get("", response=PreviewRead)
def preview(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    doc, prints = selectors.report_preview(request.user, client_id)
    return {
        "content": doc,
        "prints": [
            {
                "id": p.id,
                "printed_by": p.printed_by.shown_name,
                "role": p.role,
                "purpose": p.purpose,
                "sha256": p.sha256,
                "pages": p.pages,
                "created_at": p.created_at,
            }
            for p in prints
        ],
    }


@router.api_operation(["GET", "POST"], "/pdf")
def pdf(  # type: ignore[no-untyped-def]
    request: HttpRequest, client_id: Path[uuid.UUID], ask: Query[PrintAsk]
) -> HttpResponse:
    try:
        printed = services.do_print(actor=request.user, client_id=client_id, purpose=ask.purpose)
    except fonts.FontMissing:
        return JsonResponse({"detail": "report_font_missing"}, status=503)
    return pdf_response(printed)


@public_router.get("/public-key", response=ReportKeysRead, auth=None)
def public_key(request: HttpRequest):  # type: ignore[no-untyped-def]
    keys = signing.public_keys(services.KEY_PURPOSE)
    return {
        "purpose": services.KEY_PURPOSE,
        "keys": [
            {"key_id": k, "public_key": base64.b64encode(v).decode("ascii")}
            for k, v in sorted(keys.items())
        ],
    }
