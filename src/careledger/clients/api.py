"""Client routes of the JSON API: thin wrappers over the same selectors and services as the UI."""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router

from careledger.clients import selectors, services
from careledger.clients.schemas import (
    ClientCreate,
    ClientDetailRead,
    ClientEnrolled,
    ClientPage,
    ClientRead,
    ClientUpdate,
)
from careledger.clients.validation import ClientInput

router = Router(tags=["clients"])


def _input(payload: ClientCreate) -> ClientInput:
    data = payload.dict(exclude={"reason"})
    return ClientInput(**data)


@router.post("/", response={201: ClientEnrolled})
def create_client(request: HttpRequest, payload: ClientCreate):  # type: ignore[no-untyped-def]
    enrolled = services.do_enrol_client(actor=request.user, data=_input(payload))
    return 201, {"id": enrolled.client_id, "card_number": enrolled.card_number}


@router.get("/", response=ClientPage)
def list_clients(request: HttpRequest, page: int = 1):  # type: ignore[no-untyped-def]
    page_obj, rows = selectors.list_clients(request.user, page=page)
    return {
        "page": page_obj.number,
        "pages": page_obj.paginator.num_pages,
        "total": page_obj.paginator.count,
        "items": [r.__dict__ for r in rows],
    }


@router.get("/search", response=list[ClientRead])
def search_clients(request: HttpRequest, q: str):  # type: ignore[no-untyped-def]
    return [r.__dict__ for r in selectors.search_clients(request.user, q[:100])]


@router.get("/{client_id}", response=ClientDetailRead)
def read_client(request: HttpRequest, client_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return selectors.get_client(request.user, client_id).__dict__


@router.put("/{client_id}", response=ClientDetailRead)
def update_client(request: HttpRequest, client_id: uuid.UUID, payload: ClientUpdate):  # type: ignore[no-untyped-def]
    services.do_update_client(
        actor=request.user, client_id=client_id, data=_input(payload), reason=payload.reason
    )
    return selectors.get_client(request.user, client_id).__dict__
