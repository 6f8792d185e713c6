"""The de-identification module, without a database: pseudonyms, generalisation, date
shifting and k-anonymity with suppression (careledger.exports.deid)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.exports import deid

REF = dt.date(2026, 6, 30)
KEY = b"k" * 32


def population(n: int, seed: int = 1, regions=("330102", "330106", "110101")) -> pl.DataFrame:
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(n)]
    return pl.DataFrame(
        {
            "client_id": ids,
            "sex": [rng.choice("MF") for _ in ids],
            "birth_date": [
                dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(70 * 365)) for _ in ids
            ],
            "region_code": [rng.choice(regions) for _ in ids],
            "enrolled_on": [
                dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(2000)) for _ in ids
            ],
            "sbp": [float(rng.randrange(100, 180)) for _ in ids],
        },
        schema_overrides={"client_id": pl.Utf8, "sex": pl.Utf8, "region_code": pl.Utf8},
    )


def test_pseudonyms_are_stable_per_key_and_differ_between_keys():
    ids = [str(uuid.uuid4()) for _ in range(3)]
    first = deid.pseudonyms(ids, KEY)
    assert first == deid.pseudonyms(ids, KEY)
    assert len(set(first)) == 3 and all(len(p) == deid.PSEUDONYM_HEX for p in first)
    assert not set(first) & set(deid.pseudonyms(ids, b"x" * 32))
    assert not any(i.replace("-", "")[:8] in "".join(first) for i in ids)


def test_date_offsets_are_stable_bounded_and_never_zero():
    ids = [str(i) for i in range(5000)]
    offsets = deid.date_offsets(ids, KEY, 30)
    assert offsets == deid.date_offsets(ids, KEY, 30)
    assert min(offsets) == -30 and max(offsets) == 30 and 0 not in offsets
    assert offsets != deid.date_offsets(ids, b"y" * 32, 30)


def test_age_bands_count_completed_years_and_top_code_at_90():
    frame = pl.DataFrame(
        {"b": [dt.date(1976, 6, 30), dt.date(1976, 7, 1), dt.date(1930, 1, 1), dt.date(2030, 1, 1)]}
    )
    ages = frame.select(deid.age_years(pl.col("b"), REF).alias("a"))["a"].to_list()
    assert ages[:2] == [50, 49]  # birthday on the reference day counts; the next day does not
    bands = frame.select(deid.age_band(deid.age_years(pl.col("b"), REF), 5).alias("x"))["x"]
    assert bands.to_list() == ["50-54", "45-49", "90+", "*"]


def test_region_prefix_keeps_only_valid_area_codes():
    frame = pl.DataFrame({"r": ["330102", "012345", None, "33010"]})
    assert frame.select(deid.region_prefix(pl.col("r"), 2))["r"].to_list() == ["33", "*", "*", "*"]
    assert frame.select(deid.region_prefix(pl.col("r"), 0).alias("r"))["r"].to_list() == ["*"] * 4


def test_anonymise_drops_identifiers_shifts_dates_and_reaches_k():
    frame = population(3000)
    out, report = deid.anonymise(
        frame,
        key=KEY,
        config=deid.DeidConfig(reference_date=REF, k=5),
        date_columns=["enrolled_on"],
        keep=["sbp"],
    )
    assert out.columns == ["pseudonym", "sex", "age_band", "region", "sbp", "enrolled_on"]
    assert report.k_achieved >= 5 == report.k_requested
    assert deid.smallest_class(out) == report.k_achieved
    assert report.rows_out + report.suppressed == report.rows_in == 3000
    assert report.suppressed <= 0.05 * 3000
    ids = set(frame["client_id"])
    assert not ids & set(out["pseudonym"])
    # Every client's date moved by the offset of their own pseudonym's key, within range.
    joined = frame.with_columns(
        pl.Series("pseudonym", deid.pseudonyms(frame["client_id"].to_list(), KEY))
    ).join(out.select("pseudonym", pl.col("enrolled_on").alias("shifted")), on="pseudonym")
    delta = (joined["shifted"] - joined["enrolled_on"]).dt.total_days()
    assert delta.abs().max() <= 180 and (delta != 0).all()


def test_small_population_generalises_further_and_suppresses_the_rest():
    frame = population(60, regions=("330102", "110101", "440305", "510107"))
    out, report = deid.anonymise(frame, key=KEY, config=deid.DeidConfig(reference_date=REF, k=5))
    assert report.age_band_years > 5 or report.region_digits < 4  # it had to generalise
    assert len(report.levels_tried) >= 2
    assert deid.smallest_class(out) >= 5 or out.height == 0


def test_fewer_clients_than_k_leaves_nothing_and_says_k_achieved_zero():
    out, report = deid.anonymise(
        population(3), key=KEY, config=deid.DeidConfig(reference_date=REF, k=5)
    )
    assert out.height == 0 and report.k_achieved == 0 and report.suppressed == 3


def test_direct_identifiers_cannot_be_kept_and_bad_config_is_refused():
    frame = population(10).with_columns(pl.lit("张三").alias("name"))
    with pytest.raises(deid.DeidError):
        deid.anonymise(
            frame, key=KEY, config=deid.DeidConfig(reference_date=REF), keep=["client_id"]
        )
    with pytest.raises(deid.DeidError):
        deid.anonymise(frame.drop("sex"), key=KEY, config=deid.DeidConfig(reference_date=REF))
    out, _ = deid.anonymise(frame, key=KEY, config=deid.DeidConfig(reference_date=REF, k=2))
    assert "name" not in out.columns
    with pytest.raises(deid.DeidError):
        deid.DeidConfig(reference_date=REF, k=1)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 400), k=st.integers(2, 12), seed=st.integers(0, 10**6))
def test_released_frames_are_always_k_anonymous(n, k, seed):
    out, report = deid.anonymise(
        population(n, seed), key=KEY, config=deid.DeidConfig(reference_date=REF, k=k)
    )
    assert out.height == 0 or deid.smallest_class(out) >= k
    assert report.k_achieved == deid.smallest_class(out)
    assert report.rows_out == out.height and report.rows_in == n
