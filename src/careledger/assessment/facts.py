"""Risk levels as facts for other engines (tag rules, advice), one frame for a population.

Internal: no access check and no ledger event here. The callers are services that have
authorised their own work (the tag engine evaluating an institution's rules, the advice sheet of
a client the actor may see); they must not hand these frames to anyone directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import polars as pl

from careledger.assessment.models import Outcome, RiskAssessment

RISK_SCHEMA = {
    "client_id": pl.Utf8,
    "model": pl.Utf8,
    "value": pl.Float64,
    "level": pl.Utf8,
    "assessed_at": pl.Datetime("us", "UTC"),
}


def latest_risks(
    *, institution_id: uuid.UUID | str, client_ids: Sequence[uuid.UUID | str] | None = None
) -> pl.DataFrame:
    """Each client's current assessment per model (only models that gave a result): columns
    client_id (str UUID), model (model id), value (Float64 or null), level (stable level code),
    assessed_at (UTC). One query, served by the `risk_population` index."""
    rows = RiskAssessment.objects.filter(
        institution_id=institution_id, is_current=True, outcome=Outcome.ASSESSED
    )
    if client_ids is not None:
        rows = rows.filter(client_id__in=[str(c) for c in client_ids])
    data = rows.order_by().values_list("client_id", "model_id", "value", "level", "assessed_at")
    columns: dict[str, list] = {name: [] for name in RISK_SCHEMA}
    for client_id, model_id, value, level, assessed_at in data.iterator(chunk_size=5000):
        columns["client_id"].append(str(client_id))
        columns["model"].append(model_id)
        columns["value"].append(None if value is None else float(value))
        columns["level"].append(level)
        columns["assessed_at"].append(assessed_at)
    return pl.DataFrame(columns, schema=RISK_SCHEMA)
