"""The institution admin's rule pages (under /config/tag-rules/): counts and rules, no client.

List of tags; a new tag; a tag's page: its rule versions, the draft editor with live validation
(HTMX posts the text to `validate/` as the admin types; the error is shown under the spot it
points at), the preview (how many clients would gain or lose the tag now, by sex and age band),
publish and retire. Every view asks the policy through the services and selectors.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careledger.clients.validation import ValidationFailed
from careledger.tagging import config_selectors, presentation, services
from careledger.tagging.forms import RuleForm, TagForm
from careledger.tagging.models import RuleStatus
from careledger.tagging.rules import FACT_KINDS, RuleError
from careledger.tagging.services import RuleInvalid, TagInput


def pointer(text: str, error: RuleError) -> dict[str, Any]:
    """The line the error is on and a caret line under the spot (for the editor)."""
    lines = text.split("\n")
    line = lines[error.line - 1] if error.line <= len(lines) else ""
    line_end = error.start - (error.col - 1) + len(line)
    width = max(1, min(error.end, line_end) - error.start)
    return {
        "message": presentation.error_message(error),
        "line": error.line,
        "col": error.col,
        "text": line,
        "caret": " " * (error.col - 1) + "^" * width,
    }


def _validation(expression: str) -> dict[str, Any]:
    if not expression.strip():
        return {"empty": True}
    try:
        compiled = services.validate_expression(expression)
    except RuleInvalid as exc:
        return {"error": pointer(expression, exc.error)}
    return {"ok": True, "facts": [presentation.fact_label(c) for c in compiled.columns]}


def _vocabulary() -> list[tuple[str, str]]:
    return [(name, str(presentation.KIND_LABELS[name])) for name in FACT_KINDS]


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    rows = config_selectors.tag_overview(request.user)
    return render(request, "tagging/config/list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def tag_new(request: HttpRequest) -> HttpResponse:
    services.check_can_configure(actor=request.user)
    form = TagForm(request.POST or None)
    check: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            tag = services.do_create_tag(
                actor=request.user,
                data=TagInput(d["code"], d["name_zh"], d["name_en"], d["colour"], d["category"]),
                expression=d["expression"],
            )
        except RuleInvalid as exc:
            check = {"error": pointer(d["expression"], exc.error)}
        except ValidationFailed as exc:
            form.add_error(None, " ".join(m for ms in exc.errors.values() for m in ms))
        else:
            messages.success(request, _("Tag created."))
            return redirect("tagging_config:tag", tag_id=tag.id)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "tagging/config/new.html",
        {"form": form, "check": check, "vocabulary": _vocabulary()},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tag_page(request: HttpRequest, tag_id: uuid.UUID) -> HttpResponse:
    try:
        tag, versions = config_selectors.tag_detail(request.user, tag_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    draft = next((v for v in versions if v.status == RuleStatus.DRAFT), None)
    published = next((v for v in versions if v.status == RuleStatus.PUBLISHED), None)
    initial = draft or published
    form = RuleForm(
        request.POST or None,
        initial={"expression": initial.expression if initial else "", "note": ""},
    )
    check: dict[str, Any] = {}
    status = 200
    if request.method == "POST" and form.is_valid():
        expression = form.cleaned_data["expression"]
        try:
            services.do_save_draft(
                actor=request.user,
                tag_id=tag.id,
                expression=expression,
                note=form.cleaned_data["note"],
            )
        except RuleInvalid as exc:
            check, status = {"error": pointer(expression, exc.error)}, 422
        else:
            messages.success(request, _("Draft saved. Preview it, then publish."))
            return redirect("tagging_config:tag", tag_id=tag.id)
    return render(
        request,
        "tagging/config/tag.html",
        {
            "tag": tag,
            "versions": versions,
            "draft": draft,
            "published": published,
            "form": form,
            "check": check,
            "vocabulary": _vocabulary(),
        },
        status=status,
    )


@login_required
@require_POST
def validate(request: HttpRequest) -> HttpResponse:
    """The live check of the editor (an HTMX fragment): OK with the facts read, or the error
    under its spot."""
    services.check_can_configure(actor=request.user)
    expression = request.POST.get("expression", "")[:4000]
    return render(request, "tagging/config/_check.html", {"check": _validation(expression)})


@login_required
@require_POST
def preview(request: HttpRequest, tag_id: uuid.UUID) -> HttpResponse:
    expression = request.POST.get("expression", "")[:4000]
    context: dict[str, Any] = {}
    try:
        context["preview"] = config_selectors.preview(
            request.user, tag_id=tag_id, expression=expression
        )
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except RuleInvalid as exc:
        context["check"] = {"error": pointer(expression, exc.error)}
    return render(request, "tagging/config/_preview.html", context)


@login_required
@require_POST
def publish(request: HttpRequest, rule_id: uuid.UUID) -> HttpResponse:
    try:
        rule = services.do_publish_rule(actor=request.user, rule_id=rule_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except (ValidationFailed, RuleInvalid):
        messages.error(request, _("Only a draft that passes the check can be published."))
        return redirect("tagging_config:list")
    messages.success(
        request,
        _("Version %(v)d published: every client is being re-evaluated.") % {"v": rule.version},
    )
    return redirect("tagging_config:tag", tag_id=rule.tag_id)


@login_required
@require_POST
def retire(request: HttpRequest, rule_id: uuid.UUID) -> HttpResponse:
    try:
        rule = services.do_retire_rule(actor=request.user, rule_id=rule_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("Version %(v)d retired.") % {"v": rule.version})
    return redirect("tagging_config:tag", tag_id=rule.tag_id)
