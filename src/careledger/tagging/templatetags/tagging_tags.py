"""Template helpers for tag chips on pages of other apps (the client list and profile)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def chips_for(chips: dict[Any, list] | None, client_id: Any) -> list:
    """The chips of one client from the {client id: [Chip]} map a view computed."""
    return (chips or {}).get(client_id, [])
