"""The auditor's workbench (审计工作台): thin views over `selectors` and `services`."""

from __future__ import annotations

import csv
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from careledger.access.enforce import require
from careledger.access.models import BreakGlassGrant
from careledger.access.roles import Action
from careledger.audit import selectors, services
from careledger.audit.forms import AlertForm, EventFilterForm, ReviewForm
from careledger.audit.models import Alert, AlertStatus
from careledger.clients.validation import ValidationFailed


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filter_form(request: HttpRequest) -> EventFilterForm:
    return EventFilterForm(request.GET or None)


@login_required
def events(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.AUDIT_VIEW, purpose="oversight")
    form = _filter_form(request)
    rows: list[selectors.EventRow] = []
    next_before = None
    flt = selectors.EventFilter()
    if form.is_bound and not form.is_valid():
        return render(request, "audit/events.html", {"form": form, "rows": rows}, status=400)
    if form.is_bound:
        flt = form.to_filter()
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        before = None
    try:
        rows, next_before = selectors.search_events(request.user, flt, before=before)
    except selectors.FilterError as exc:
        for field, message in exc.errors.items():
            form.add_error(field, message)
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit/events.html",
        {
            "form": form,
            "rows": rows,
            "next_before": next_before,
            "query": query.urlencode(),
            "paged": before is not None,
        },
    )


@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    flt = form.to_filter() if form.is_bound and form.is_valid() else selectors.EventFilter()
    try:
        rows = selectors.export_events(request.user, flt)
    except selectors.FilterError:
        messages.error(request, _("Fix the filter before exporting."))
        return redirect("audit:events")
    writer = csv.writer(_Echo())
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
    return response


@login_required
def break_glass_queue(request: HttpRequest) -> HttpResponse:
    pending, done = selectors.break_glass_queue(request.user)
    return render(request, "audit/break_glass_queue.html", {"pending": pending, "done": done})


@login_required
@require_http_methods(["GET", "POST"])
def break_glass_review(request: HttpRequest, grant_id: uuid.UUID) -> HttpResponse:
    if not BreakGlassGrant.objects.filter(pk=grant_id).exists():
        require(request.user, Action.BREAK_GLASS_REVIEW, purpose="oversight")
        raise Http404
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_review_break_glass(
                actor=request.user,
                grant_id=grant_id,
                verdict=form.cleaned_data["verdict"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Review recorded."))
            return redirect("audit:break_glass_queue")
    detail = selectors.break_glass_detail(request.user, grant_id)
    return render(request, "audit/break_glass_review.html", {"d": detail, "form": form})


@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", AlertStatus.OPEN)
    if status not in {s.value for s in AlertStatus} | {""}:
        status = AlertStatus.OPEN
    rows = selectors.alerts(request.user, status=status)
    return render(
        request,
        "audit/alerts.html",
        {"alerts": rows, "status": status, "statuses": AlertStatus.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def handle_alert(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    if request.method == "GET":  # the form lives on the list; asked for directly, go there
        require(request.user, Action.ALERT_MANAGE, purpose="oversight")
        return redirect("audit:alerts")
    form = AlertForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose acknowledge or close."))
        return redirect("audit:alerts")
    try:
        services.do_handle_alert(
            actor=request.user,
            alert_id=alert_id,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except Alert.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("Alert updated."))
    return redirect("audit:alerts")
