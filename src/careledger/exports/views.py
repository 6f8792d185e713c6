"""Export pages (批量导出 / 科研导出) under /exports/: thin — parse, call one selector or one
service, render. Approving and downloading ask for a fresh MFA code first (step-up): GET shows
the confirmation, POST acts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careledger.access.enforce import require
from careledger.access.roles import Action, permits
from careledger.accounts.stepup import mfa_is_fresh, step_up_required
from careledger.clients.validation import ValidationFailed
from careledger.exports import selectors, services
from careledger.exports.forms import DecisionForm, ProjectForm, RequestForm, identifier_labels
from careledger.exports.models import ExportRequest, Status
from careledger.observations import catalogue


def _found(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return func(request, *args, **kwargs)
        except ExportRequest.DoesNotExist:
            raise Http404 from None

    wrapped.__name__ = func.__name__
    wrapped.__doc__ = func.__doc__
    return wrapped


def _errors_into(form: Any, exc: ValidationFailed) -> None:
    for field, errors in exc.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    lists = selectors.export_lists(request.user)
    return render(
        request,
        "exports/list.html",
        {
            "lists": lists,
            "can_request": permits(request.user.role, Action.EXPORT_REQUEST),
            "can_approve": permits(request.user.role, Action.EXPORT_APPROVE),
            "can_projects": permits(request.user.role, Action.RESEARCH_PROJECT_MANAGE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.EXPORT_REQUEST, purpose="export")  # refusals are ledgered
    projects = selectors.open_projects(request.user)
    form = RequestForm(request.POST or None, user=request.user, projects=projects)
    if request.method == "POST" and form.is_valid():
        try:
            export = services.do_request_export(
                actor=request.user,
                data=form.scope_data(),
                justification=form.cleaned_data["justification"],
            )
        except ValidationFailed as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Request sent: a second person must approve it."))
            return redirect("exports:detail", request_id=export.id)
    return render(request, "exports/new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_context(request: HttpRequest, export: ExportRequest) -> dict[str, Any]:
    user = request.user
    scope = export.scope
    is_requester = export.requested_by_id == user.id
    labels = identifier_labels()
    return {
        "e": export,
        "scope": scope,
        "indicators": [
            (code, (catalogue.find(code).name_zh if catalogue.find(code) else code))
            for code in scope.get("observation_codes", ())
        ],
        "identifiers": [labels.get(f, f) for f in scope.get("identifier_fields", ())],
        "is_requester": is_requester,
        "may_decide": (
            not is_requester
            and export.status == Status.PENDING
            and permits(user.role, Action.EXPORT_APPROVE)
        ),
        "may_download": is_requester
        and export.status == Status.READY
        and export.downloads < export.max_downloads,
        "form": DecisionForm(),
    }


@login_required
@_found
def export_detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    export = selectors.export_detail(request.user, request_id)
    return render(request, "exports/detail.html", _detail_context(request, export))


@login_required
@require_http_methods(["GET", "POST"])
@step_up_required
@_found
def export_approve(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    export = selectors.export_detail(request.user, request_id)
    services.check_decide(actor=request.user, export=export)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_approve_export(
                actor=request.user,
                request_id=export.id,
                mfa_fresh=mfa_is_fresh(request),
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
        else:
            messages.success(request, _("Approved: the export runs now."))
        return redirect("exports:detail", request_id=export.id)
    context = _detail_context(request, export)
    context.update(form=form, confirming="approve")
    return render(request, "exports/detail.html", context)


@login_required
@require_POST
@_found
def export_reject(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    export = selectors.export_detail(request.user, request_id)
    form = DecisionForm(request.POST)
    note = form.data.get("note", "")
    try:
        services.do_reject_export(actor=request.user, request_id=export.id, note=note)
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    else:
        messages.success(request, _("Rejected."))
    return redirect("exports:detail", request_id=export.id)


@login_required
@require_POST
@_found
def export_withdraw(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    try:
        services.do_withdraw_export(actor=request.user, request_id=request_id)
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    else:
        messages.success(request, _("Request withdrawn."))
    return redirect("exports:detail", request_id=request_id)


@login_required
@require_http_methods(["GET", "POST"])
@step_up_required
@_found
def export_download(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    export = selectors.export_detail(request.user, request_id)
    if request.method == "GET":
        context = _detail_context(request, export)
        context["confirming"] = "download"
        return render(request, "exports/detail.html", context)
    try:
        file = services.do_download_export(
            actor=request.user, request_id=export.id, mfa_fresh=mfa_is_fresh(request)
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
        return redirect("exports:detail", request_id=export.id)
    response = HttpResponse(file.data, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def projects(request: HttpRequest) -> HttpResponse:
    rows = selectors.projects(request.user)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_create_project(actor=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Project created; its pseudonym key is held apart."))
            return redirect("exports:projects")
    return render(request, "exports/projects.html", {"projects": rows, "form": form})
