"""FHIR R4: the specification's own examples, a Chinese check-up bundle, malformed input."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from parse_helpers import BAD_CHECK, ID_A, ID_C, NOW, assert_no_phi_in_problems, fixture

from careledger.exams.parsers.common import SHANGHAI
from careledger.exams.parsers.fhir_bundle import parse_fhir
from careledger.exams.parsers.types import FileUnreadable, Reason

LOINC = "http://loinc.org"


def spec(name: str) -> dict:
    return json.loads(fixture("fhir", name))


def patient(pid: str, *identifiers: dict) -> dict:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": list(identifiers)
        or [{"system": "urn:oid:2.16.156.10011.1.3", "value": ID_A}],
        "name": [{"family": "张", "given": ["三"]}],
        "gender": "female",
        "birthDate": "1990-03-07",
    }


def bundle(*resources: dict, full_urls: list[str] | None = None, kind: str = "collection") -> bytes:
    entries = []
    for i, res in enumerate(resources):
        entry = {"resource": res}
        if full_urls:
            entry["fullUrl"] = full_urls[i]
        entries.append(entry)
    return json.dumps({"resourceType": "Bundle", "type": kind, "entry": entries}).encode()


def obs(code: str = "1558-6", value: object = 5.6, **extra: object) -> dict:
    res = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}], "text": "空腹血糖"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-04-18T08:10:00+08:00",
        "valueQuantity": {"value": value, "unit": "mmol/L"},
    }
    res.update(extra)
    return res


# --------------------------------------------------------------------------------------------
# The specification's examples
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "units", "reference"),
    [
        ("observation-example-f001-glucose.json", 1, "Patient/f001"),
        ("observation-example-bloodpressure.json", 1, "Patient/example"),
        ("bundle-lipids.json", 5, "Patient/pat2"),
    ],
)
def test_spec_examples_as_published_name_the_missing_patient(name, units, reference):
    out = parse_fhir(fixture("fhir", name), now=NOW)
    assert out.units_read == units
    assert out.reports == []
    (problem,) = out.problems
    assert problem.reason == Reason.NO_PATIENT_ID
    assert reference in problem.message


def test_spec_glucose_f001_values():
    glucose = spec("observation-example-f001-glucose.json")
    data = bundle(glucose, patient("f001"))
    out = parse_fhir(data, now=NOW)
    assert out.problems == []
    (report,) = out.reports
    assert report.patient.id_number == ID_A
    assert (report.patient.name, report.patient.sex) == ("张三", "F")
    assert report.patient.birth_date == dt.date(1990, 3, 7)
    tz = dt.timezone(dt.timedelta(hours=1))
    assert report.effective_at == dt.datetime(2013, 4, 2, 9, 30, 10, tzinfo=tz)  # period start
    assert report.source_report_id == ""  # lone Observations: the pipeline derives one
    (result,) = report.results
    assert (result.local_code, result.coding_system) == ("15074-8", LOINC)
    assert result.local_name == "Glucose [Moles/volume] in Blood"
    assert (result.value, result.unit) == ("6.3", "mmol/l")
    assert (result.reference_range, result.flag, result.status) == ("3.1-6.2", "H", "final")


def test_spec_blood_pressure_components_become_two_results():
    bp = spec("observation-example-bloodpressure.json")
    out = parse_fhir(bundle(bp, patient("example")), now=NOW)
    assert out.problems == []
    (report,) = out.reports
    assert report.effective_at == dt.datetime(2012, 9, 17, tzinfo=SHANGHAI)  # date only
    assert [(r.local_code, r.value, r.unit, r.flag) for r in report.results] == [
        ("8480-6", "107", "mmHg", "N"),
        ("8462-4", "60", "mmHg", "L"),
    ]
    assert [r.location for r in report.results] == [
        "entry 1, component[0]",
        "entry 1, component[1]",
    ]
    assert all(r.coding_system == LOINC for r in report.results)


def test_spec_lipids_bundle_resolves_relative_references():
    lipids = spec("bundle-lipids.json")
    lipids["entry"].append(
        {"fullUrl": "https://example.com/base/Patient/pat2", "resource": patient("pat2")}
    )
    out = parse_fhir(json.dumps(lipids).encode(), now=NOW)
    assert out.problems == []
    (report,) = out.reports
    assert report.source_report_id == "5234342"
    assert report.location == "entry 1"
    assert report.sending_facility == "Acme Laboratory, Inc"
    tz = dt.timezone(dt.timedelta(hours=11))
    assert report.effective_at == dt.datetime(2011, 3, 4, 8, 30, tzinfo=tz)
    assert [(r.local_code, r.value, r.reference_range) for r in report.results] == [
        ("35200-5", "6.3", "<4.5"),
        ("35217-9", "1.3", "<2.0"),
        ("2085-9", "1.3", ">1.5"),
        ("13457-7", "4.6", "<3.0"),
    ]
    assert report.results[0].local_name == "Cholesterol"  # code.text: what the source shows


def test_spec_f001_bloodexam_reports_each_missing_result():
    exam = spec("diagnosticreport-example-f001-bloodexam.json")
    glucose = spec("observation-example-f001-glucose.json")
    exam["entry"] += [
        {"fullUrl": "https://example.com/base/Observation/f001", "resource": glucose},
        {"fullUrl": "https://example.com/base/Patient/f001", "resource": patient("f001")},
    ]
    out = parse_fhir(json.dumps(exam).encode(), now=NOW)
    (report,) = out.reports
    assert report.source_report_id == "nr1239044"
    assert report.note == "Core lab"
    assert [r.local_code for r in report.results] == ["15074-8"]
    # No effective time on the report: the issued time stands in.
    tz = dt.timezone(dt.timedelta(hours=1))
    assert report.effective_at == dt.datetime(2013, 5, 15, 19, 32, 52, tzinfo=tz)
    missing = [(p.field, p.reason, p.report_index) for p in out.problems]
    assert missing == [(f"result[{i}]", Reason.NO_VALUE, 0) for i in range(1, 5)]
    assert "Observation/f002" in out.problems[0].message


# --------------------------------------------------------------------------------------------
# A Chinese check-up centre's transaction bundle
# --------------------------------------------------------------------------------------------


def test_chinese_checkup_bundle():
    out = parse_fhir(fixture("fhir", "checkup-bundle-zh.json"), now=NOW)
    assert out.units_read == 9
    (report,) = out.reports
    assert report.patient.id_number == ID_C  # system urn:oid:2.16.156.10011.1.3
    assert report.patient.card_number == "HZ010000027"  # type MB
    assert (report.patient.name, report.patient.sex) == ("周华", "M")
    assert report.source_report_id == "TJ2024-000871"
    assert report.sending_facility == "杭州城西健康体检中心"
    assert report.note == "空腹血糖偏高，建议复查。"
    assert report.effective_at == dt.datetime(2024, 4, 18, 8, 10, tzinfo=SHANGHAI)
    got = [(r.local_code, r.local_name, r.value, r.unit, r.flag, r.status) for r in report.results]
    assert got == [
        ("1558-6", "空腹血糖", "7.20", "mmol/L", "H", "final"),  # written precision kept
        ("UPRO", "尿蛋白", "阴性", "", "", "corrected"),  # amended → corrected
        ("1988-5", "C反应蛋白", "<0.1", "mg/L", "", "final"),  # comparator
        ("8480-6", "收缩压", "142", "mmHg", "H", "final"),
        ("8462-4", "舒张压", "88", "mmHg", "", "final"),
        ("8280-0", "腰围", "92.0", "cm", "", "final"),  # contained "#waist"
    ]
    assert report.results[0].reference_range == "3.9-6.1"
    assert report.results[1].reference_range == "阴性"
    problems = [(p.location, p.reason, p.report_index) for p in out.problems]
    assert sorted(problems) == [
        ("entry 8", Reason.CANCELLED, 0),
        ("entry 9", Reason.INVALID_RESOURCE, 0),
    ]
    invalid = next(p for p in out.problems if p.reason == Reason.INVALID_RESOURCE)
    assert invalid.field == "Observation.valueQuantity.value"
    assert "四百二十" not in invalid.message
    assert_no_phi_in_problems(out, ID_C, "周华", "HZ010000027")


def test_observations_without_report_group_by_subject_and_day():
    p1 = patient("p1")
    p2 = patient("p2", {"type": {"coding": [{"code": "MR"}]}, "value": "M-2"})
    o1 = obs("1558-6", 5.6)
    o2 = obs("2093-3", 4.9)
    o3 = obs("1558-6", 6.1, effectiveDateTime="2023-04-18T08:00:00+08:00")
    o4 = obs("1558-6", 7.0, subject={"reference": "Patient/p2"})
    out = parse_fhir(bundle(p1, p2, o1, o2, o3, o4), now=NOW)
    assert out.problems == []
    shapes = [(r.patient.id_number, r.patient.card_number, len(r.results)) for r in out.reports]
    assert shapes == [(ID_A, "", 2), (ID_A, "", 1), ("", "M-2", 1)]
    assert out.reports[0].location == "entries 3-4"


def test_logical_subject_identifier_without_patient_resource():
    o = obs(subject={"identifier": {"system": "urn:oid:2.16.156.10011.1.3", "value": ID_C}})
    (report,) = parse_fhir(json.dumps(o).encode(), now=NOW).reports
    assert report.patient.id_number == ID_C
    assert report.location == "resource"


def test_configured_card_system():
    p = patient("p1", {"system": "https://centre.example/card", "value": "K-42"})
    out = parse_fhir(
        bundle(p, obs()), now=NOW, card_systems=frozenset({"https://centre.example/card"})
    )
    assert out.reports[0].patient.card_number == "K-42"
    out = parse_fhir(bundle(p, obs()), now=NOW)
    assert out.reports[0].patient.card_number == "K-42"  # untyped: still the centre's number


def test_invalid_resident_id_with_card_is_a_warning():
    p = patient(
        "p1",
        {"system": "urn:oid:2.16.156.10011.1.3", "value": BAD_CHECK},
        {"type": {"coding": [{"code": "MB"}]}, "value": "C-1"},
    )
    out = parse_fhir(bundle(p, obs()), now=NOW)
    (report,) = out.reports
    assert (report.patient.id_number, report.patient.card_number) == ("", "C-1")
    (problem,) = out.problems
    assert (problem.reason, problem.warning, problem.report_index) == (
        Reason.BAD_PATIENT_ID,
        True,
        0,
    )
    assert_no_phi_in_problems(out, BAD_CHECK, "C-1", "张三")


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ({"valueQuantity": None, "valueString": "阳性(+)"}, "阳性(+)"),
        ({"valueQuantity": None, "valueInteger": 3}, "3"),
        ({"valueQuantity": None, "valueBoolean": False}, "false"),
        ({"valueQuantity": None, "valueCodeableConcept": {"coding": [{"code": "NEG"}]}}, "NEG"),
        (
            {
                "valueQuantity": None,
                "valueCodeableConcept": {"text": "阴性", "coding": [{"code": "N"}]},
            },
            "阴性",
        ),
        ({"valueQuantity": {"value": 1e-05, "unit": "x"}}, "0.00001"),
        ({"valueQuantity": {"value": 10, "comparator": ">=", "unit": "x"}}, ">=10"),
    ],
)
def test_value_types(change, value):
    o = obs()
    for key, val in change.items():
        if val is None:
            o.pop(key)
        else:
            o[key] = val
    out = parse_fhir(bundle(patient("p1"), o), now=NOW)
    assert out.problems == []
    assert out.reports[0].results[0].value == value


def test_data_absent_and_missing_code():
    absent = obs(valueQuantity=None)
    absent.pop("valueQuantity")
    absent["dataAbsentReason"] = {"coding": [{"code": "not-performed"}]}
    nocode = obs(code={"coding": []})
    nocode["code"] = {"coding": [{"system": LOINC, "display": "x"}]}
    good = obs("2093-3", 4.1)
    out = parse_fhir(bundle(patient("p1"), absent, nocode, good), now=NOW)
    (report,) = out.reports
    assert [r.local_code for r in report.results] == ["2093-3"]
    assert [(p.location, p.reason) for p in out.problems] == [
        ("entry 2", Reason.NO_VALUE),
        ("entry 3", Reason.NO_CODE),
    ]


def test_future_and_partial_dates():
    future = obs(effectiveDateTime="2026-05-01T08:00:00+08:00")
    out = parse_fhir(bundle(patient("p1"), future), now=NOW)
    assert [(p.field, p.reason) for p in out.problems] == [
        ("effectiveDateTime", Reason.FUTURE_DATE)
    ]
    partial = obs(effectiveDateTime="2024-04")
    out = parse_fhir(bundle(patient("p1"), partial), now=NOW)
    assert [(p.field, p.reason) for p in out.problems] == [("effectiveDateTime", Reason.BAD_DATE)]
    none = obs()
    none.pop("effectiveDateTime")
    out = parse_fhir(bundle(patient("p1"), none), now=NOW)
    assert [p.reason for p in out.problems] == [Reason.NO_DATE]


def test_invalid_report_drops_its_results_not_the_bundle():
    bad_report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-01",
        "result": [{"reference": "Observation/o1"}],
        "issued": "not a date",
    }
    claimed = obs()
    claimed["id"] = "o1"
    other = obs("2093-3", 4.2, effectiveDateTime="2024-02-01")
    out = parse_fhir(bundle(patient("p1"), bad_report, claimed, other), now=NOW)
    assert [[r.local_code for r in rep.results] for rep in out.reports] == [["2093-3"]]
    (problem,) = out.problems
    assert (problem.location, problem.field, problem.reason) == (
        "entry 2",
        "DiagnosticReport.issued",
        Reason.INVALID_RESOURCE,
    )


def test_invalid_patient_message_does_not_echo_values():
    p = patient("p1")
    p["birthDate"] = f"{ID_A}"
    out = parse_fhir(bundle(p, obs()), now=NOW)
    assert out.reports == []
    assert {pr.reason for pr in out.problems} == {Reason.INVALID_RESOURCE, Reason.NO_PATIENT_ID}
    assert_no_phi_in_problems(out, ID_A)


def test_urn_uuid_transaction_and_delete_entries():
    p = patient("p1")
    o = obs(subject={"reference": "urn:uuid:aaaa"})
    raw = json.loads(bundle(p, o, full_urls=["urn:uuid:aaaa", "urn:uuid:bbbb"], kind="transaction"))
    raw["entry"].append({"request": {"method": "DELETE", "url": "Observation/zz"}})
    deleted = copy.deepcopy(raw["entry"][1])
    deleted["request"] = {"method": "DELETE", "url": "Observation/x"}
    raw["entry"].append(deleted)
    out = parse_fhir(json.dumps(raw).encode(), now=NOW)
    assert len(out.reports) == 1 and len(out.reports[0].results) == 1


def test_cancelled_report_and_statuses():
    report = {
        "resourceType": "DiagnosticReport",
        "status": "entered-in-error",
        "code": {"text": "x"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-01",
    }
    out = parse_fhir(bundle(patient("p1"), report), now=NOW)
    assert [p.reason for p in out.problems] == [Reason.CANCELLED]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", Reason.UNREADABLE),
        (b"[1, 2]", Reason.UNREADABLE),
        (b'{"resourceType": "Bundle", "entry": [', Reason.UNREADABLE),
        (b'{"resourceType": "Patient", "id": "x"}', Reason.UNREADABLE),
        (b'{"foo": 1}', Reason.UNREADABLE),
        (b'{"resourceType": "Bundle", "entry": 5}', Reason.UNREADABLE),
        (b'{"resourceType": "Bundle"} trailing', Reason.UNREADABLE),
        (b"[" * 100000, Reason.UNREADABLE),
        (b'{"resourceType": "Bundle", "entry": [' + b"[" * 100000, Reason.UNREADABLE),
        (bytes(range(0x80, 0x100)) * 4, Reason.ENCODING),
    ],
)
def test_unreadable_files(data, reason):
    with pytest.raises(FileUnreadable) as exc:
        parse_fhir(data, now=NOW)
    assert exc.value.reason == reason


def test_entries_that_are_not_resources():
    raw = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [5, {"resource": 7}, {"resource": {"id": "x"}}, {"search": {"mode": "outcome"}}],
    }
    out = parse_fhir(json.dumps(raw).encode(), now=NOW)
    assert out.reports == []
    assert [p.location for p in out.problems] == ["entry 1", "entry 2", "entry 3"]
    assert all(p.reason == Reason.INVALID_RESOURCE for p in out.problems)


def test_lone_diagnostic_report_with_contained_patient_and_observations():
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r-77",
        "status": "preliminary",
        "code": {"text": "血常规"},
        "subject": {"reference": "#pat"},
        "effectiveDateTime": "2024-06-01",
        "contained": [
            {"resourceType": "Patient", "id": "pat", "identifier": [{"value": ID_C}]},
            {
                "resourceType": "Observation",
                "id": "hb",
                "status": "preliminary",
                "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
                "valueQuantity": {"value": 152, "unit": "g/L"},
                "referenceRange": [{"low": {"value": 130}, "high": {"value": 175}}],
            },
            {
                "resourceType": "Observation",
                "id": "bad",
                "status": "final",
                "code": {"text": "x"},
                "valueQuantity": {"value": "abc"},
            },
        ],
        "result": [{"reference": "#hb"}, {"reference": "#bad"}, {"reference": "#missing"}],
    }
    out = parse_fhir(json.dumps(report).encode(), now=NOW)
    (parsed,) = out.reports
    assert parsed.location == "resource"
    assert parsed.source_report_id == "DiagnosticReport/r-77"  # a server id, not a urn:uuid
    assert parsed.patient.id_number == ID_C  # an untyped value that is a valid number
    assert parsed.status == "preliminary"
    # FHIR requires a zone with a time; a date alone is the centre's day (Asia/Shanghai).
    assert parsed.effective_at == dt.datetime(2024, 6, 1, tzinfo=SHANGHAI)
    (result,) = parsed.results
    assert (result.local_code, result.value, result.unit, result.reference_range) == (
        "718-7",
        "152",
        "g/L",
        "130-175",
    )
    assert result.status == "preliminary"
    assert [(p.location, p.reason, p.report_index) for p in out.problems] == [
        ("resource, contained #bad", Reason.INVALID_RESOURCE, 0),
        ("resource, result[2]", Reason.NO_VALUE, 0),
    ]
