"""The institution admin's questionnaire pages (under /config/questionnaires/): configuration,
never anyone's answers (separation of duties: these pages read definitions only).

* `questionnaires/` every definition and version; POST creates a new draft;
* `questionnaires/import/` a FHIR Questionnaire JSON (file or pasted) → a new draft;
* `questionnaires/<id>/` a version: a draft is edited here (item by item, scores and bands, or
  the raw JSON) and published; a published version is retired or copied into a new draft;
* `questionnaires/<id>/preview/` the form as a client sees it (nothing is saved);
* `questionnaires/<id>/export/` the version's FHIR JSON.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careledger.clients.validation import ValidationFailed
from careledger.questionnaires import (
    builder,
    config_selectors,
    config_services,
    enable,
    rendering,
    stored,
)
from careledger.questionnaires.definition import ITEM_TYPES, SCORE_URL, DefinitionError
from careledger.questionnaires.models import Questionnaire, Status
from careledger.questionnaires.views import errors_text

MAX_IMPORT = 2 * 1024 * 1024


def _row(request: HttpRequest, questionnaire_id: uuid.UUID) -> Questionnaire:
    try:
        return config_selectors.get_definition(request.user, questionnaire_id)  # type: ignore[arg-type]
    except Questionnaire.DoesNotExist as exc:
        raise Http404 from exc


def _detail_url(questionnaire_id: uuid.UUID) -> str:
    return reverse("questionnaires_config:detail", args=[questionnaire_id])


@login_required
@require_http_methods(["GET", "POST"])
def definitions(request: HttpRequest) -> HttpResponse:
    rows = config_selectors.list_definitions(request.user)  # type: ignore[arg-type]
    if request.method == "POST":
        try:
            row = config_services.do_create(
                actor=request.user,  # type: ignore[arg-type]
                title=request.POST.get("title", ""),
                code=request.POST.get("code", ""),
            )
        except ValidationFailed as exc:
            messages.error(request, errors_text(exc))
            return redirect(reverse("questionnaires_config:list"))
        return redirect(_detail_url(row.id))
    return render(request, "questionnaires/config_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def import_definition(request: HttpRequest) -> HttpResponse:
    config_services.check_can_configure(request.user)  # type: ignore[arg-type]
    problems: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        text = upload.read(MAX_IMPORT + 1).decode("utf-8", "replace") if upload else ""
        text = text or request.POST.get("json", "")
        try:
            if len(text) > MAX_IMPORT:
                raise ValueError
            data = json.loads(text)
            row = config_services.do_import(actor=request.user, data=data)  # type: ignore[arg-type]
        except ValueError:
            problems = [_("The file is not JSON.")]
        except ValidationFailed as exc:
            problems = [m for field in exc.errors.values() for m in field]
        else:
            messages.success(request, _("Imported as a draft: check it, preview it, publish it."))
            return redirect(_detail_url(row.id))
    return render(
        request,
        "questionnaires/config_import.html",
        {"problems": problems},
        status=400 if problems else 200,
    )


def _apply(request: HttpRequest, row: Questionnaire) -> dict[str, Any]:
    """The edited JSON for a builder POST (raises BuilderError / ValueError)."""
    op, form = request.POST.get("op", ""), request.POST
    if op == "save_item":
        return builder.upsert_item(row.resource, form)
    if op == "delete_item":
        return builder.delete_item(row.resource, form.get("link_id", ""))
    if op in ("up", "down"):
        return builder.move_item(row.resource, form.get("link_id", ""), -1 if op == "up" else 1)
    if op == "save_score":
        return builder.upsert_score(row.resource, form)
    if op == "delete_score":
        return builder.delete_score(row.resource, form.get("code", ""))
    if op == "save_json":
        return json.loads(form.get("json", ""))
    if op == "save_meta":
        return {
            **row.resource,
            "title": form.get("title", "").strip() or row.title,
            "description": form.get("description", "").strip(),
        }
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, questionnaire_id: uuid.UUID) -> HttpResponse:
    row = _row(request, questionnaire_id)
    problems: list[str] = []
    if request.method == "POST":
        op = request.POST.get("op", "")
        actions = {
            "publish": config_services.do_publish,
            "retire": config_services.do_retire,
            "new_version": config_services.do_new_version,
        }
        try:
            if op in actions:
                changed = actions[op](actor=request.user, questionnaire_id=row.id)  # type: ignore[operator]
                messages.success(request, _("Done."))
                return redirect(_detail_url(changed.id))
            resource = _apply(request, row)
            config_services.do_update_draft(
                actor=request.user,
                questionnaire_id=row.id,
                resource=resource,  # type: ignore[arg-type]
            )
            messages.success(request, _("Draft saved."))
            return redirect(_detail_url(row.id))
        except ValidationFailed as exc:
            problems = [m for field in exc.errors.values() for m in field]
        except (builder.BuilderError, ValueError) as exc:
            problems = [str(exc) or _("The JSON could not be read.")]
    return render(
        request,
        "questionnaires/config_detail.html",
        _detail_context(request, row, problems),
        status=400 if problems else 200,
    )


def _detail_context(
    request: HttpRequest, row: Questionnaire, problems: list[str]
) -> dict[str, Any]:
    editing = request.GET.get("item", "")
    found = builder.find(row.resource, editing) if editing else None
    try:
        defn = stored.definition_of(row)
        numbers = defn.numbers()
    except DefinitionError as exc:
        defn, numbers = None, {}
        problems = problems + exc.problems
    items = [
        (item, numbers.get(item.link_id, ""), depth)
        for item, depth in _walk_depth(defn.items if defn else ())
    ]
    scores = [
        {"form": _score_form(ext)}
        for ext in row.resource.get("extension", [])
        if ext.get("url") == SCORE_URL
    ]
    return {
        "row": row,
        "draft": row.status == Status.DRAFT,
        "definition": defn,
        "items": items,
        "groups": [i for i, _n, _d in items if i.type == "group"],
        "scores": scores,
        "item_form": builder.item_form(found)
        if found
        else {"type": "choice", "enable_behavior": "all"},
        "editing": editing if found else "",
        "item_types": ITEM_TYPES,
        "json": json.dumps(row.resource, ensure_ascii=False, indent=1),
        "problems": problems,
    }


def _walk_depth(items: Any, depth: int = 0) -> Any:
    for item in items:
        yield item, depth
        yield from _walk_depth(item.items, depth + 1)


def _score_form(ext: dict[str, Any]) -> dict[str, str]:
    parts = ext.get("extension", [])

    def values(name: str) -> list[Any]:
        return [
            next((v for k, v in p.items() if k.startswith("value")), "")
            for p in parts
            if p.get("url") == name
        ]

    bands = []
    for band in (p for p in parts if p.get("url") == "band"):
        cells = {
            b.get("url"): next((v for k, v in b.items() if k.startswith("value")), "")
            for b in band.get("extension", [])
        }
        bands.append(
            f"{cells.get('min', '')} | {cells.get('code', '')} | {cells.get('display', '')}"
        )
    return {
        "code": str((values("code") or [""])[0]),
        "display": str((values("display") or [""])[0]),
        "method": str((values("method") or ["sum"])[0]),
        "items": ", ".join(str(v) for v in values("item")),
        "reverse": ", ".join(str(v) for v in values("reverse")),
        "transform": str((values("transform") or ["raw"])[0]),
        "flag": "on" if (values("flag") or [False])[0] else "",
        "bands": "\n".join(bands),
    }


@login_required
@require_GET
def preview(request: HttpRequest, questionnaire_id: uuid.UUID) -> HttpResponse:
    row = _row(request, questionnaire_id)
    try:
        defn = stored.definition_of(row)
    except DefinitionError as exc:
        raise Http404 from exc
    rows = rendering.form_rows(defn, {}, enabled=enable.enabled_items(defn, {}), translate=_)
    return render(request, "questionnaires/config_preview.html", {"row": row, "rows": rows})


@login_required
@require_GET
def export(request: HttpRequest, questionnaire_id: uuid.UUID) -> HttpResponse:
    row = _row(request, questionnaire_id)
    body = json.dumps(row.resource, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{row.code}-v{row.version}.json"'
    return response
