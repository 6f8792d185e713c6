"""The anomaly scan: aggregate recent hours of the ledger per staff user, apply the rules in
`anomaly.py`, raise alerts. Runs every ten minutes as a Celery beat task and from
`careledger audit scan`; idempotent (one alert per rule, user and hour; see `models.Alert`).

Only complete hours are scanned, so a half-finished hour is never judged on part of its events.
The baseline (a user's own hourly counts over the previous 14 days) is read only for users who
already pass the absolute floor in the hour, which keeps the scan cheap on a large ledger.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from careledger.accounts.models import User
from careledger.audit import anomaly
from careledger.audit.models import Alert
from careledger.audit.selectors import uuid_or_none
from careledger.ledger import services as ledger
from careledger.ledger.models import LedgerEntry

READ_ACTIONS = (
    "client.view",
    "client.list",
    "client.search",
    "client.history",
    "client.revision.view",
)
NOT_STAFF = ("", "anonymous", "system")
BASELINE_DAYS = 14


def _hour_windows(now: dt.datetime, hours: int) -> list[tuple[dt.datetime, dt.datetime]]:
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return [(end - dt.timedelta(hours=k + 1), end - dt.timedelta(hours=k)) for k in range(hours)]


def _distinct_clients(start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    rows = (
        LedgerEntry.objects.filter(
            recorded_at__gte=start,
            recorded_at__lt=end,
            outcome=ledger.Outcome.ALLOWED,
            action__in=READ_ACTIONS,
        )
        .exclude(client_id="")
        .exclude(actor_id__in=NOT_STAFF)
        .values("institution_id", "actor_id")
        .annotate(n=Count("client_id", distinct=True))
        .order_by()
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        out[row["institution_id"]][row["actor_id"]] = row["n"]
    return out


def _denials(start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, int]]:
    rows = (
        LedgerEntry.objects.filter(
            recorded_at__gte=start, recorded_at__lt=end, outcome=ledger.Outcome.DENIED
        )
        .exclude(actor_id__in=NOT_STAFF)
        .values("institution_id", "actor_id")
        .annotate(n=Count("seq"))
        .order_by()
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        out[row["institution_id"]][row["actor_id"]] = row["n"]
    return out


def _baseline(actor_ids: list[str], before: dt.datetime) -> dict[str, list[int]]:
    if not actor_ids:
        return {}
    rows = (
        LedgerEntry.objects.filter(
            recorded_at__gte=before - dt.timedelta(days=BASELINE_DAYS),
            recorded_at__lt=before,
            outcome=ledger.Outcome.ALLOWED,
            action__in=READ_ACTIONS,
            actor_id__in=actor_ids,
        )
        .exclude(client_id="")
        .annotate(hour=TruncHour("recorded_at"))
        .values("actor_id", "hour")
        .annotate(n=Count("client_id", distinct=True))
        .order_by()
    )
    out: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        out[row["actor_id"]].append(row["n"])
    return out


def _raise(
    institution_id: str, finding: anomaly.Finding, start: dt.datetime, end: dt.datetime
) -> bool:
    user = User.objects.filter(pk=uuid_or_none(finding.actor_id)).first()
    try:
        with transaction.atomic():
            Alert.objects.create(
                institution_id=institution_id,
                rule=finding.rule,
                severity=finding.severity,
                subject_user=user,
                subject_key=finding.actor_id,
                window_start=start,
                window_end=end,
                observed=finding.observed,
                expected=finding.expected,
                detail={"role": user.role if user else ""},
            )
    except IntegrityError:
        return False  # already raised by an earlier run over the same hour
    return True


def scan(
    *, hours: int = 2, now: dt.datetime | None = None, thresholds: anomaly.Thresholds | None = None
) -> int:
    """Scan the last `hours` complete hours; return how many new alerts were raised."""
    t = thresholds or anomaly.Thresholds()
    raised = 0
    for start, end in _hour_windows(now or timezone.now(), hours):
        counts = _distinct_clients(start, end)
        denials = _denials(start, end)
        candidates = [
            actor
            for per_actor in counts.values()
            for actor, n in per_actor.items()
            if n >= min(t.many_clients_floor, t.night_bulk)
        ]
        baseline = _baseline(candidates, start)
        for institution_id in set(counts) | set(denials):
            if not institution_id:
                continue
            findings = anomaly.evaluate(
                distinct_clients=counts.get(institution_id, {}),
                baseline=baseline,
                denials=denials.get(institution_id, {}),
                local_hour=timezone.localtime(start).hour,
                t=t,
            )
            raised += sum(_raise(institution_id, f, start, end) for f in findings)
    with transaction.atomic():
        ledger.record(
            actor=ledger.SYSTEM,
            action="audit.scan",
            detail={"hours": hours, "alerts_raised": raised},
        )
    return raised
