"""How a risk page writes what the models store: UCUM units as people read them (mmHg, kg/m²,
mL/min/1.73 m²; dimensionless scores and counts without a unit) and coded choices in words.

The stored results and the API keep the UCUM codes (machine-readable, FHIR Quantity.code); only
the page translates them.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

UNIT_DISPLAY = {
    "mm[Hg]": "mmHg",
    "kg/m2": "kg/m²",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "umol/L": "µmol/L",
    "a": _("years"),
    "/wk": _("per week"),
    "min/wk": _("min per week"),
    "{cigarettes}/d": _("cigarettes a day"),
}
CHOICE_DISPLAY = {
    "male": _("Male"),
    "female": _("Female"),
    "none": _("None"),
    "first": _("First-degree relative"),
    "second": _("Second-degree relative"),
}


@register.filter
def ucum(unit: str | None) -> Any:
    """The unit as printed beside a value; '' for dimensionless ('1', '{score}', …)."""
    if not unit or unit == "1" or (unit.startswith("{") and unit.endswith("}")):
        return ""
    return UNIT_DISPLAY.get(unit, unit)


@register.filter
def choice(value: Any) -> Any:
    """A coded choice in words; anything else unchanged."""
    return CHOICE_DISPLAY.get(value, value) if isinstance(value, str) else value
