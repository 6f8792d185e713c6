"""API output schemas of the trend view (read only: there is no input body, only `?code=`).

Values are JSON numbers in the indicator's canonical unit (`unit`, shown as `unit_display`);
`display` is the value as the page shows it ("5.6", "<0.10", "1+"). Each change carries its
RCV significance: "rise", "fall", "within" or "not_assessable".
"""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema


class ChangeRead(Schema):
    absolute: float | None
    percent: float | None
    significance: str


class BandRead(Schema):
    low: float | None
    high: float | None
    text: str


class PointRead(Schema):
    date: dt.date
    value: float | None
    comparator: str
    text: str
    display: str
    flag: str
    band: BandRead | None
    source_range: str
    source_flag: str
    source_range_differs: bool
    change_previous: ChangeRead | None
    change_baseline: ChangeRead | None


class IndicatorTrendRead(Schema):
    code: str
    name_zh: str
    name_en: str
    abbreviation: str
    kind: str
    unit: str
    unit_display: str
    decimals: int
    ordinal_scale: list[str]
    rcv_down: float | None
    rcv_up: float | None
    slope_per_year: float | None
    direction: str
    latest: PointRead
    points: list[PointRead]


class PanelRead(Schema):
    key: str
    name: str
    indicators: list[IndicatorTrendRead]


class ChangeItemRead(Schema):
    code: str
    name_zh: str
    abbreviation: str
    unit: str
    before: PointRead | None
    after: PointRead
    change: ChangeRead | None


class ChangeSummaryRead(Schema):
    latest_date: dt.date
    previous_date: dt.date | None
    new_abnormal: list[ChangeItemRead]
    resolved: list[ChangeItemRead]
    significant: list[ChangeItemRead]


class ClientTrendsRead(Schema):
    client_id: uuid.UUID
    checkup_dates: list[dt.date]
    result_count: int
    emergency: bool
    summary: ChangeSummaryRead | None
    panels: list[PanelRead]
