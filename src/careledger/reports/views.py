"""The report page of one client (打印健康报告): thin — GET shows the preview (what the PDF
will hold) with the purpose form; POST prints: the PDF comes back as a download only after the
print is in the ledger. Refusals are 403 (ledgered by the policy), a missing purpose is 422.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.clients.models import Client
from careledger.clients.validation import ValidationFailed
from careledger.reports import fonts, selectors, services
from careledger.reports.models import Purpose


def pdf_response(printed: services.PrintedReport) -> HttpResponse:
    response = HttpResponse(printed.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{printed.filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Report-SHA256"] = printed.sha256
    return response


def _page(
    request: HttpRequest, client_id: uuid.UUID, *, errors: list[str], status: int = 200
) -> HttpResponse:
    doc, prints = selectors.report_preview(request.user, client_id)
    return render(
        request,
        "reports/report.html",
        {
            "client_id": client_id,
            "doc": doc,
            "prints": prints,
            "purposes": Purpose.choices,
            "errors": errors,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_report(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    if not Client.objects.filter(pk=client_id).exists():
        raise Http404
    if request.method == "GET":
        return _page(request, client_id, errors=[])
    purpose = request.POST.get("purpose", "")
    try:
        printed = services.do_print(actor=request.user, client_id=client_id, purpose=purpose)
    except ValidationFailed:
        return _page(
            request, client_id, errors=[_("Choose why you print this report.")], status=422
        )
    except fonts.FontMissing:
        return _page(
            request,
            client_id,
            errors=[_("The Chinese font for reports is not installed: ask the administrator.")],
            status=503,
        )
    return pdf_response(printed)
