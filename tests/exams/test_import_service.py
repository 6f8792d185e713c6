"""Import jobs end to end through the real parsers: a file in, observations and a summary out,
the same through `careledger import`; refusals; the quarantine worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from tests.conftest import make_citizen_id

from careledger.access.enforce import AccessDenied
from careledger.clients.models import Client
from careledger.exams import services, storage
from careledger.exams.models import ImportJob, QuarantinedItem
from careledger.ledger.models import LedgerEntry
from careledger.ledger.verify import verify
from careledger.observations.models import Observation
from careledger.observations.services import MappingRefused, do_map_local_code

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1968, 7, 9)


@pytest.fixture
def person(world):  # type: ignore[no-untyped-def]
    number = make_citizen_id(BIRTH, "F", 21)
    enrolled = world.enrol(document_number=number, name="上官燕", sex="F", birth_date=BIRTH)
    return Client.objects.get(pk=enrolled.client_id), number


def hl7(number: str, *obx: str, order: str = "A100", name: str = "上官^燕") -> bytes:
    lines = [
        "MSH|^~\\&|LIS|CENTRE|CL|1001|20240506083000||ORU^R01|MSG1|P|2.5.1|||||CHN|UNICODE UTF-8",
        f"PID|1||{number}^^^^NI||{name}||19680709|F",
        f"OBR|1|{order}|{order}|CHK^体检|||20240506083000",
        *obx,
    ]
    return ("\r".join(lines) + "\r").encode("utf-8")


GLUCOSE = "OBX|1|NM|2345-7^葡萄糖^LN||110|mg/dL|70-110|H|||F"
ALT = "OBX|2|NM|1742-6^ALT^LN||30|U/L|0-40||||F"
UNKNOWN = "OBX|3|NM|ZZ9^某新项目^L||12|U/L|||||F"


def run(actor, data: bytes, **kw) -> ImportJob:  # type: ignore[no-untyped-def]
    job = services.do_create_import(
        actor=actor, filename=kw.pop("filename", "r.hl7"), data=data, enqueue=False, **kw
    )
    return services.run_import(job.id)


def test_an_hl7_file_lands_with_a_summary_and_the_ledger(world, person):
    client, number = person
    job = run(world.manager, hl7(number, GLUCOSE, ALT, UNKNOWN), source_name="城东体检中心")
    assert (job.status, job.format, job.units_total, job.imported) == ("done", "hl7v2", 1, 2)
    assert job.by_reason == {"unknown_code": 1} and job.quarantined == 1
    assert Observation.objects.filter(client=client).count() == 2
    actions = set(LedgerEntry.objects.values_list("action", flat=True))
    assert {"exam.import.upload", "observation.import", "exam.import.run"} <= actions
    assert verify().ok


def test_the_file_is_sealed_at_rest_and_its_name_too(world, person):
    _client, number = person
    job = run(world.manager, hl7(number, GLUCOSE), filename="上官燕-体检.hl7")
    raw = (storage._path(job.id)).read_bytes()
    assert number.encode() not in raw and "上官".encode() not in raw
    assert storage.load(job.id).startswith(b"MSH|")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT filename FROM exams_importjob")
        (stored,) = cursor.fetchone()
    assert "上官" not in stored


def test_running_the_same_file_again_is_safe(world, person):
    _client, number = person
    data = hl7(number, GLUCOSE, ALT)
    run(world.manager, data)
    again = run(world.manager, data)
    assert (again.imported, again.duplicates) == (0, 2)
    assert services.previous_imports_of_same_file(again) == 1
    assert Observation.objects.count() == 2


def test_a_duplicate_task_delivery_does_nothing(world, person):
    _client, number = person
    job = run(world.manager, hl7(number, GLUCOSE))
    before = LedgerEntry.objects.count()
    assert services.run_import(job.id).status == "done"
    assert LedgerEntry.objects.count() == before


def test_a_csv_export_with_chinese_headers_lands_without_configuration(world, person):
    client, number = person
    csv = (
        "\ufeff体检号,身份证号,姓名,体检日期,项目代码,项目名称,结果,单位,参考范围\n"
        f"TJ1,{number},上官燕,2023-04-01,2345-7,空腹血糖,6.2,mmol/L,3.9-6.1\n"
        f"TJ1,{number},上官燕,2023-04-01,2093-3,总胆固醇,,mmol/L,<5.2\n"
        f"TJ1,{number},上官燕,2023-04-01,1742-6,谷丙转氨酶,22,U/L,7-40\n"
    ).encode()
    job = run(world.manager, csv, filename="export.csv")
    assert (job.format, job.imported) == ("csv", 2)
    assert sum(job.by_reason.values()) == 1  # the empty value: row 3, named
    item = QuarantinedItem.objects.get()
    assert "3" in item.location
    assert Observation.objects.get(client=client, code="2345-7").flag == "H"


def test_gbk_encoded_csv_is_read(world, person):
    _client, number = person
    csv = (
        f"身份证号,姓名,体检日期,项目代码,结果,单位\n{number},上官燕,2022-03-01,2345-7,5.0,mmol/L\n"
    ).encode("gbk")
    job = run(world.manager, csv, filename="gbk.csv")
    assert job.imported == 1 and job.encoding.lower() in {"gb18030", "gbk"}


def test_a_file_above_the_limit_is_refused_before_anything_is_stored(world, settings):
    settings.CARELEDGER_IMPORT_MAX_MB = 1
    with pytest.raises(services.ImportRefused) as refused:
        services.do_create_import(
            actor=world.manager, filename="big.hl7", data=b"MSH|" + b"x" * (2 * 1024 * 1024)
        )
    assert refused.value.reason == "too_large" and "limit is 1 MB" in refused.value.message
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01\x02 not a report \xff\xfe"])
def test_empty_or_unrecognisable_files_are_refused_with_the_reason(world, data):
    with pytest.raises(services.ImportRefused):
        services.do_create_import(actor=world.manager, filename="x.bin", data=data)


def test_a_corrupt_xlsx_fails_the_job_with_a_reason(world):
    job = run(world.manager, b"PK\x03\x04" + b"\x00" * 200, filename="x.xlsx", fmt="xlsx")
    assert job.status == "failed" and job.error_reason == "unreadable"
    assert LedgerEntry.objects.filter(action="exam.import.run", outcome="failed").exists()


@pytest.mark.parametrize("who", ["doctor", "nurse", "auditor", "analyst"])
def test_roles_without_the_import_permission_are_refused_and_it_is_ledgered(world, who):
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.do_create_import(actor=user, filename="r.hl7", data=b"MSH|^~\\&|x")
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").exists()


def test_an_unmatched_report_is_matched_by_hand_by_the_care_team(world, person):
    client, _number = person
    stranger = make_citizen_id(dt.date(1990, 1, 1), "M", 5)
    run(world.manager, hl7(stranger, GLUCOSE, ALT, name="无名^氏"))
    item = QuarantinedItem.objects.get(reason="unmatched_client")
    with pytest.raises(AccessDenied):  # not their client's team
        services.do_match_item(actor=world.manager_b, item_id=item.id, client_id=client.id)
    with pytest.raises(AccessDenied):  # the admin runs imports but files nothing under people
        services.do_match_item(actor=world.admin, item_id=item.id, client_id=client.id)
    tally = services.do_match_item(actor=world.manager, item_id=item.id, client_id=client.id)
    assert tally.imported == 2
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_by == world.manager
    assert Observation.objects.filter(client=client).count() == 2
    assert LedgerEntry.objects.filter(action="exam.quarantine.match").exists()


def test_mapping_an_unknown_code_and_retrying_lands_it(world, person):
    client, number = person
    run(world.manager, hl7(number, UNKNOWN), source_name="城东体检中心")
    with pytest.raises(MappingRefused):
        do_map_local_code(
            actor=world.admin, source_name="城东体检中心", local_code="ZZ9", code="0000-0"
        )
    with pytest.raises(AccessDenied):
        do_map_local_code(
            actor=world.manager, source_name="城东体检中心", local_code="ZZ9", code="1920-8"
        )
    do_map_local_code(
        actor=world.admin, source_name="城东体检中心", local_code="ZZ9", code="1742-6"
    )
    tally = services.do_retry_code(actor=world.admin, source_name="城东体检中心", local_code="ZZ9")
    assert tally.imported == 1
    assert QuarantinedItem.objects.get().status == "resolved"
    assert Observation.objects.get(client=client).source_code == "ZZ9"


def test_a_retry_that_fails_again_keeps_one_open_item(world, person):
    _client, number = person
    run(world.manager, hl7(number, UNKNOWN))
    item = QuarantinedItem.objects.get()
    services.do_retry_items(actor=world.manager, item_ids=[item.id])
    item.refresh_from_db()
    assert (QuarantinedItem.objects.count(), item.status, item.attempts) == (1, "open", 2)


def test_discarding_needs_a_reason_holder_of_the_client(world, person):
    _client, number = person
    run(world.manager, hl7(number, UNKNOWN))
    item = QuarantinedItem.objects.get()
    with pytest.raises(AccessDenied):
        services.do_discard_item(actor=world.manager_b, item_id=item.id, reason="测试数据")
    services.do_discard_item(actor=world.manager, item_id=item.id, reason="测试数据")
    item.refresh_from_db()
    assert item.status == "discarded" and item.resolution_note == "测试数据"
    with pytest.raises(QuarantinedItem.DoesNotExist):  # closed items are not worked again
        services.do_discard_item(actor=world.manager, item_id=item.id, reason="again")


def test_other_institutions_cannot_work_this_quarantine(world, person):
    _client, number = person
    run(world.manager, hl7(number, UNKNOWN))
    item = QuarantinedItem.objects.get()
    with pytest.raises(QuarantinedItem.DoesNotExist):
        services.do_retry_items(actor=world.outsider, item_ids=[item.id])


def test_the_import_command_prints_the_summary(world, person, tmp_path, capsys):
    _client, number = person
    path = tmp_path / "results.hl7"
    path.write_bytes(hl7(number, GLUCOSE, ALT, UNKNOWN))
    call_command("import", str(path), "--source", "城东体检中心", "--user", "manager")
    out = capsys.readouterr().out
    assert "imported     2 observations in 1 new reports" in out
    assert "unknown_code" in out and "quarantined  1" in out
    call_command("import", str(path), "--source", "城东体检中心", "--user", "manager")
    assert "duplicates   2" in capsys.readouterr().out


def test_the_import_command_refuses_clearly(world, tmp_path):
    path = tmp_path / "r.hl7"
    path.write_bytes(b"MSH|^~\\&|x")
    with pytest.raises(CommandError, match="--user"):
        call_command("import", str(path))
    with pytest.raises(CommandError, match="may not import"):
        call_command("import", str(path), "--user", "doctor")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import", str(tmp_path / "none.hl7"), "--user", "manager")


def test_a_report_with_a_bad_id_number_but_a_good_card_lands_with_a_note(world, person):
    client, _number = person
    card = client.cards.get().number
    data = (
        "\r".join(
            [
                "MSH|^~\\&|LIS|C|CL|1001|20240506083000||ORU^R01|1|P|2.5.1|||||CHN|UNICODE UTF-8",
                f"PID|1||110101198001010000^^^^NI~{card}^^^^MB||上官^燕",
                "OBR|1|B1|B1|CHK|||20240506083000",
                GLUCOSE,
            ]
        )
        + "\r"
    ).encode()
    job = run(world.manager, data)
    assert (job.imported, job.quarantined) == (1, 0)
    assert job.warnings == {"bad_patient_id": 1}
    assert not QuarantinedItem.objects.exists()
