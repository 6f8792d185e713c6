"""The pure parts: search parameters, categories, the JWS and key set, resource builders —
no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from careledger.fhirapi import params, resources
from careledger.fhirapi.validate import InvalidResource, validate
from careledger.ledger.sth import key_id
from careledger.sharing import categories, jws

NOW = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
PID = "3f1c3f8e-0000-4000-8000-000000000001"


def test_search_parameters_parse_and_bad_ones_get_a_specific_error():
    q = params.parse(
        "Observation",
        {
            "patient": [f"Patient/{PID}"],
            "code": ["2345-7,http://loinc.org|2093-3"],
            "date": ["ge2020", "lt2024-03"],
        },
    )
    assert str(q.patient) == PID and q.codes == ("2345-7", "2093-3")
    assert q.date_from == dt.date(2020, 1, 1) and q.date_to == dt.date(2024, 2, 29)
    with pytest.raises(params.SearchError, match="cannot be searched by name"):
        params.parse("Observation", {"patient": [PID], "name": ["x"]})
    with pytest.raises(params.SearchError, match="patient=Patient"):
        params.parse("Condition", {})
    with pytest.raises(params.SearchError, match="calendar date"):
        params.parse("Observation", {"patient": [PID], "date": ["ge2020-02-30"]})
    with pytest.raises(params.SearchError, match="LOINC"):
        params.parse("Observation", {"patient": [PID], "code": ["glucose"]})
    with pytest.raises(params.SearchError, match="_count"):
        params.parse("Observation", {"patient": [PID], "_count": ["0"]})
    with pytest.raises(params.SearchError, match="_id"):
        params.parse("Patient", {})
    assert params.parse("Patient", {"_id": [PID]}).ids == (PID,)


def test_categories_open_fixed_types_and_the_audit_log_is_not_shareable():
    assert categories.types_of(["results"]) == ("Observation", "DiagnosticReport")
    assert "AuditEvent" not in categories.SHAREABLE_TYPES
    assert categories.scope_allows(["system/*.read"], "Condition")
    assert not categories.scope_allows(["system/Patient.read"], "Condition")
    with pytest.raises(categories.CategoryError) as err:
        categories.clean_grant(
            categories=["results", "nope"],
            data_from=dt.date(2025, 1, 1),
            data_to=dt.date(2024, 1, 1),
            valid_days=0,
            max_uses=5000,
        )
    assert set(err.value.errors) == {"categories", "data_to", "valid_days", "max_uses"}
    chosen, days, uses = categories.clean_grant(
        categories=["results", "demographics"],
        data_from=None,
        data_to=None,
        valid_days=7,
        max_uses=1,
    )
    assert chosen == ["demographics", "results"] and (days, uses) == (7, 1)


def test_jws_round_trip_and_a_changed_byte_fails():
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    token = jws.sign(b'{"a":1}', private_key=private, kid=key_id(public))
    assert jws.header_of(token) == {
        "alg": "Ed25519",
        "kid": key_id(public),
        "typ": "careledger-share+jws",
        "cty": "json",
    }
    assert jws.verify(token, public) == b'{"a":1}'
    head, body, sig = token.split(".")
    with pytest.raises(jws.JwsError):
        jws.verify(
            ".".join([head, body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1], sig]), public
        )
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(jws.JwsError):
        jws.verify(token, other)


def test_a_key_set_whose_kid_is_not_the_fingerprint_is_refused():
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    keys = jws.jwks(share_keys={key_id(public): public}, ledger_keys={})
    assert jws.keys_from_jwks(keys)["share-bundle"] == {key_id(public): public}
    keys["keys"][0]["kid"] = "0" * 64
    with pytest.raises(jws.JwsError, match="fingerprint"):
        jws.keys_from_jwks(keys)


def test_every_resource_builder_validates_against_fhir_r4():
    obs = resources.observation(
        id=PID,
        patient_id=PID,
        code="2345-7",
        display_zh="葡萄糖",
        display_en="Glucose",
        effective=NOW,
        value=Decimal("5.600000"),
        comparator="",
        value_text="",
        unit="mmol/L",
        flag="H",
        report_id=PID,
        source_code="GLU",
        source_value="5.6",
        source_unit="mmol/L",
        source_range="3.9-6.1",
    )
    assert obs["valueQuantity"] == {
        "value": 5.6,
        "unit": "mmol/L",
        "system": "http://unitsofmeasure.org",
        "code": "mmol/L",
    }
    for resource in (
        obs,
        resources.patient(id=PID, name="张三", sex="F", birth_date=dt.date(1980, 2, 3)),
        resources.diagnostic_report(
            id=PID,
            patient_id=PID,
            effective=NOW,
            issued=None,
            status="corrected",
            version=2,
            source_name="体检中心",
            result_ids=[PID],
        ),
        resources.audit_event(
            leaf={
                "action": "share.fetch",
                "actor": PID,
                "role": "partner",
                "outcome": "denied",
                "purpose": "share",
                "client": PID,
                "resource": {"type": "ShareGrant", "id": PID},
            },
            seq=7,
            recorded=NOW,
        ),
        resources.capability_statement(
            base="https://x/fhir/R4",
            software_version="1",
            now=NOW,
            token_url="https://x/t",
            notes={"CarePlan": "none kept"},
            scopes=categories.all_scopes(),
        ),
        resources.operation_outcome("forbidden", "grant_expired"),
    ):
        validate(resource)
    with pytest.raises(InvalidResource, match="Observation"):
        validate({"resourceType": "Observation", "id": PID, "valueString": 5})


def test_a_share_of_ten_years_fits_the_jws_limits():
    """joserfc's default payload limit is 128 kB; ten years of results is about 1 MB."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    payload = b'{"bundle":"' + b"x" * 3_000_000 + b'"}'
    token = jws.sign(payload, private_key=private, kid=key_id(public))
    assert jws.verify(token, public) == payload
