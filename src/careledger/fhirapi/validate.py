"""Validate what the API sends against fhir.resources' R4B models (pure: no Django).

R4B is R4's technical correction (same resources, same JSON for everything we serve), and it is
the R4-line package fhir.resources ships; the exams importer validates what comes in with the
same models. Every response body passes here before it leaves: a mapping bug answers 500 with
an OperationOutcome naming the resource, instead of sending a partner something invalid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError


class InvalidResource(ValueError):
    """Our own output failed validation (a programming error; the message names where)."""


def validate(resource: Mapping[str, Any]) -> None:
    rtype = str(resource.get("resourceType", ""))
    try:
        model = get_fhir_model_class(rtype)
    except KeyError as exc:
        raise InvalidResource(f"unknown resource type {rtype!r}") from exc
    try:
        model.model_validate(dict(resource))
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidResource(
            f"{rtype}/{resource.get('id', '')} is not valid FHIR R4 at {where}: "
            f"{first.get('msg', exc)}"
        ) from exc


__all__ = ["InvalidResource", "validate"]
