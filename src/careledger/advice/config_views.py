"""The advice catalogue editor (建议库维护) for the institution admin, under /config/advice/:
list with filters (domain, key, status, words), add an item, edit its wording (a new version;
the old one is kept and issued sheets keep showing it), retire and reinstate, see which keys an
item answers, reload the built-in catalogue. Configuration only: nothing here shows a client.

Item codes travel in the query string (`?code=`), so every route answers a plain GET.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careledger.advice import catalogue_selectors as cat
from careledger.advice import catalogue_services as services
from careledger.advice.forms import ItemForm
from careledger.advice.models import AdviceItem, Domain
from careledger.clients.validation import ValidationFailed


def _item_url(code: str) -> str:
    return f"{reverse('advice_config:item')}?code={code}"


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    domain = request.GET.get("domain", "")[:12]
    key = request.GET.get("key", "")[:120]
    status = request.GET.get("status", "active")
    status = status if status in cat.STATUSES else "active"
    q = request.GET.get("q", "")[:100]
    items = cat.catalogue_items(request.user, domain=domain, key=key, status=status, q=q)
    return render(
        request,
        "advice/config/catalogue.html",
        {
            "items": items,
            "domains": Domain.choices,
            "domain_names": dict(Domain.choices),
            "filters": {"domain": domain, "key": key, "status": status, "q": q},
            "vocabulary": cat.vocabulary_keys(),
        },
    )


def _render_item(
    request: HttpRequest, detail: cat.ItemDetail, form: ItemForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "advice/config/item.html",
        {"d": detail, "form": form, "domain_names": dict(Domain.choices)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def item(request: HttpRequest) -> HttpResponse:
    """One item: its current wording in the edit form, its keys, every version."""
    code = request.GET.get("code", "")[:80]
    services.check_can_manage(actor=request.user)
    try:
        detail = cat.item_detail(request.user, code)
    except AdviceItem.DoesNotExist as exc:
        raise Http404 from exc
    if request.method == "GET":
        return _render_item(
            request, detail, ItemForm(initial=ItemForm.initial_for(detail.current.row))
        )
    op = request.POST.get("op", "save")
    try:
        if op == "retire":
            services.do_retire_item(actor=request.user, code=code)
            messages.success(request, _("The item is retired: new sheets leave it out."))
            return redirect(_item_url(code))
        if op == "reinstate":
            services.do_reinstate_item(actor=request.user, code=code)
            messages.success(request, _("The item is back in use."))
            return redirect(_item_url(code))
        form = ItemForm(request.POST)
        form.is_valid()
        saved = services.do_edit_item(
            actor=request.user,
            code=code,
            data=form.to_data(),
            change_note=form.cleaned_data.get("change_note", ""),
        )
    except ValidationFailed as exc:
        form = ItemForm(request.POST)
        form.is_valid()
        form.add_service_errors(exc.errors)
        return _render_item(request, detail, form, status=422)
    if saved.version == detail.current.row.version:
        messages.info(request, _("Nothing changed: no new version."))
    else:
        messages.success(
            request,
            _("Saved as version %(v)d; earlier versions are kept.") % {"v": saved.version},
        )
    return redirect(_item_url(code))


@login_required
@require_http_methods(["GET", "POST"])
def new_item(request: HttpRequest) -> HttpResponse:
    services.check_can_manage(actor=request.user)
    if request.method == "GET":
        form = ItemForm(adding=True, initial={"priority": 50})
        return render(request, "advice/config/new.html", {"form": form})
    form = ItemForm(request.POST, adding=True)
    form.is_valid()
    try:
        row = services.do_add_item(
            actor=request.user, code=form.cleaned_data.get("code", ""), data=form.to_data()
        )
    except ValidationFailed as exc:
        form.add_service_errors(exc.errors)
        return render(request, "advice/config/new.html", {"form": form}, status=422)
    messages.success(request, _("The item was added."))
    return redirect(_item_url(row.code))


@login_required
@require_POST
def load_builtin(request: HttpRequest) -> HttpResponse:
    services.check_can_manage(actor=request.user)
    result = services.do_ensure_builtin(
        institution_id=request.user.institution_id, actor=request.user
    )
    messages.success(
        request,
        _(
            "Built-in catalogue checked: %(created)d added, %(refreshed)d updated, "
            "%(kept)d kept as they are (your edits are never overwritten)."
        )
        % {"created": result.created, "refreshed": result.refreshed, "kept": result.kept},
    )
    return redirect("advice_config:catalogue")
