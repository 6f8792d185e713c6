"""Enrolment (客户开卡): the happy path, duplicates through the blind index, bad input with a
specific error per field, batch behaviour and edit history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from careledger.access.enforce import AccessDenied
from careledger.clients import identifiers as ids
from careledger.clients.models import Client, ClientRevision, MembershipCard
from careledger.clients.selectors import client_history, get_client, search_clients
from careledger.clients.services import do_enrol_client, do_enrol_clients, do_update_client
from careledger.clients.validation import ValidationFailed
from careledger.ledger.models import LedgerEntry
from conftest import client_input, make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():  # the assertions read the English wording of each error
    from django.utils import translation

    with translation.override("en"):
        yield


def errors_of(world, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        do_enrol_client(actor=world.manager, data=client_input(world.team_a, **overrides))
    return caught.value.errors


def test_enrolment_issues_a_luhn_valid_card_and_stores_the_client(world):
    enrolled = world.enrol(name="王小明", membership_level="gold")
    assert ids.is_valid_card_number(enrolled.card_number)
    assert enrolled.card_number.startswith("1001")
    client = Client.objects.get(pk=enrolled.client_id)
    assert client.name == "王小明"
    card = MembershipCard.objects.get(client=client)
    assert card.level == "gold" and card.number == enrolled.card_number
    assert ClientRevision.objects.filter(client=client, version=1).exists()
    assert LedgerEntry.objects.filter(action="client.enrol", client_id=str(client.id)).count() == 1


def test_card_numbers_are_unique_and_sequential_per_institution(world):
    numbers = [world.enrol().card_number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [int(n[4:-1]) for n in numbers] == [1, 2, 3]


def test_duplicate_id_number_is_refused_naming_the_existing_card(world):
    first = world.enrol()
    existing = Client.objects.get(pk=first.client_id)
    errors = errors_of(
        world,
        document_number=existing.document_number.lower(),
        birth_date=existing.birth_date,
        sex=existing.sex,
    )
    assert first.card_number in " ".join(errors["document_number"])


def test_duplicate_phone_is_refused_naming_the_existing_card(world):
    first = world.enrol(phone="13900001111")
    errors = errors_of(world, phone="+86 139-0000-1111")
    assert first.card_number in " ".join(errors["phone"])


def test_same_person_may_enrol_at_another_institution(world):
    world.enrol(
        phone="13900002222",
        document_number=make_citizen_id(dt.date(1980, 1, 1), "M", 7),
        birth_date=dt.date(1980, 1, 1),
        sex="M",
    )
    other = do_enrol_client(
        actor=world.outsider,
        data=client_input(
            world.other_team,
            phone="13900002222",
            document_number=make_citizen_id(dt.date(1980, 1, 1), "M", 7),
            birth_date=dt.date(1980, 1, 1),
            sex="M",
        ),
    )
    assert other.card_number.startswith("2002")


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"document_number": "110105194912310021"}, "document_number", "check digit"),
        ({"document_number": "11010519491231"}, "document_number", "valid number"),
        ({"document_number": "110105491231002"}, "document_number", "15-digit"),
        ({"phone": "1381234567"}, "phone", "11 digits"),
        ({"phone": "01012345678"}, "phone", "not a mainland mobile"),
        ({"phone": "+1 650 253 0000"}, "phone", "+86"),
        ({"name": "x" * 10_000}, "name", "at most 64"),
        ({"name": "<script>alert(1)</script>"}, "name", "not allowed"),
        ({"name": "   "}, "name", "required"),
        ({"birth_date": dt.date.today() + dt.timedelta(days=1)}, "birth_date", "future"),
        ({"care_team_ids": []}, "care_team_ids", "at least one care team"),
        ({"membership_level": "vip"}, "membership_level", "unknown membership level"),
        ({"emergency_contact_relation": ""}, "emergency_contact_relation", "related"),
    ],
)
def test_bad_input_gets_a_specific_error_on_its_field(world, settings, overrides, field, fragment):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"):
        errors = errors_of(world, **overrides)
    assert field in errors, errors
    assert fragment.lower() in " ".join(errors[field]).lower(), errors[field]
    assert Client.objects.count() == 0


def test_id_number_with_future_birth_date_is_refused(world):
    future = dt.date.today() + dt.timedelta(days=400)
    body = f"330102{future:%Y%m%d}123"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    errors = errors_of(world, document_number=number, birth_date=dt.date(1990, 1, 1))
    assert "future" in " ".join(errors["document_number"])


def test_stated_birth_date_and_sex_are_cross_checked_against_the_id(world):
    number = make_citizen_id(dt.date(1985, 6, 15), "F", 3)
    errors = errors_of(world, document_number=number, birth_date=dt.date(1985, 6, 16), sex="M")
    assert "birth_date" in errors and "1985-06-15" in errors["birth_date"][0]
    assert "sex" in errors


def test_passport_is_accepted_as_an_alternative_document(world):
    data = client_input(world.team_a)
    data.document_type = "passport"
    data.document_number = "e 1234 5678"
    enrolled = do_enrol_client(actor=world.manager, data=data)
    assert Client.objects.get(pk=enrolled.client_id).document_number == "E12345678"


def test_sql_metacharacters_in_search_are_harmless(world):
    world.enrol(name="王小明")
    for query in ["' OR 1=1 --", '"; DROP TABLE clients_client; --', "%", "_", "王%"]:
        assert search_clients(world.manager, query) == []
    assert Client.objects.count() == 1


def test_batch_keeps_good_rows_and_reports_bad_ones_by_row(world):
    inputs = [client_input(world.team_a) for _ in range(5)]
    inputs[1].phone = "12345"
    inputs[3].document_number = inputs[0].document_number  # repeats row 1
    inputs[3].birth_date, inputs[3].sex = inputs[0].birth_date, inputs[0].sex
    result = do_enrol_clients(actor=world.manager, inputs=inputs)
    assert [e.row for e in result.enrolled] == [1, 3, 5]
    assert [(r.row, sorted(r.errors)) for r in result.rejected] == [
        (2, ["phone"]),
        (4, ["document_number"]),
    ]
    assert "row 1" in result.rejected[1].errors["document_number"][0]


def test_rerunning_a_batch_enrols_nobody_twice(world):
    inputs = [client_input(world.team_a) for _ in range(4)]
    first = do_enrol_clients(actor=world.manager, inputs=inputs)
    again = do_enrol_clients(actor=world.manager, inputs=inputs)
    assert len(first.enrolled) == 4 and not again.enrolled
    assert Client.objects.count() == 4
    assert all("already enrolled" in r.errors["document_number"][0] for r in again.rejected)


def test_only_enrolling_roles_may_enrol(world):
    for user in (world.nurse, world.doctor, world.admin, world.auditor, world.analyst):
        with pytest.raises(AccessDenied):
            do_enrol_client(actor=user, data=client_input(world.team_a))
    assert Client.objects.count() == 0
    assert LedgerEntry.objects.filter(action="client.enrol", outcome="denied").count() == 5


def test_a_manager_cannot_enrol_into_a_team_they_are_not_in(world):
    with pytest.raises(ValidationFailed) as caught:
        do_enrol_client(actor=world.manager, data=client_input(world.team_b))
    assert "care_team_ids" in caught.value.errors
    with pytest.raises(ValidationFailed):
        do_enrol_client(actor=world.manager, data=client_input(world.other_team))


def test_edits_keep_history_and_revisions_are_sealed(world):
    enrolled = world.enrol(name="王小明", phone="13900003333")
    data = client_input(world.team_a, name="王晓明", phone="13900004444")
    client = Client.objects.get(pk=enrolled.client_id)
    data.document_number, data.birth_date, data.sex = (
        client.document_number,
        client.birth_date,
        client.sex,
    )
    do_update_client(actor=world.manager, client_id=client.id, data=data, reason="改名")
    client.refresh_from_db()
    assert client.version == 2 and client.name == "王晓明"
    history = client_history(world.manager, client.id)
    assert [r.version for r in history] == [2, 1]
    assert {"name", "phone"} <= set(history[0].changed_fields)
    assert history[0].reason == "改名"
    assert search_clients(world.manager, "13900004444")[0].id == client.id
    assert search_clients(world.manager, "13900003333") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT snapshot FROM clients_clientrevision")
        raw = " ".join(row[0] for row in cursor.fetchall())
    assert "王小明" not in raw and "王晓明" not in raw


def test_edit_by_another_team_is_refused(world):
    enrolled = world.enrol()
    with pytest.raises(AccessDenied):
        do_update_client(
            actor=world.manager_b, client_id=enrolled.client_id, data=client_input(world.team_b)
        )


def test_detail_is_masked_for_the_nurse_and_full_for_the_doctor(world):
    enrolled = world.enrol(name="张三明", phone="13812345678")
    nurse_view = get_client(world.nurse, enrolled.client_id)
    doctor_view = get_client(world.doctor, enrolled.client_id)
    assert nurse_view.name == "张*明" and nurse_view.phone == "138****5678"
    assert nurse_view.document_number[6:14] == "********"
    assert nurse_view.birth_date is None
    assert doctor_view.name == "张三明" and doctor_view.phone == "13812345678"
