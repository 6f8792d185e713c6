"""Blind-index values for a client's searchable identifiers (one definition for every caller)."""

from __future__ import annotations

import uuid

from careledger.crypto.blind_index import blind_index

KIND_DOCUMENT = "document"
KIND_PHONE = "phone"
KIND_CARD = "card"
KIND_NAME = "name"


def document_index(institution_id: uuid.UUID, document_type: str, number: str) -> str:
    # The type is part of the value: a passport and an ID card with equal strings differ.
    return blind_index(institution_id, KIND_DOCUMENT, f"{document_type}:{number}")


def phone_index(institution_id: uuid.UUID, phone: str) -> str:
    return blind_index(institution_id, KIND_PHONE, phone)


def card_index(institution_id: uuid.UUID, number: str) -> str:
    return blind_index(institution_id, KIND_CARD, number)


def name_index(institution_id: uuid.UUID, name: str) -> str:
    return blind_index(institution_id, KIND_NAME, name.casefold())
