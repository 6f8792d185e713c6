"""Code mapping (代码映射) and the catalogue browser, for the institution admin: unknown local
codes with suggestions, one-click mapping that retries the waiting results at once, the
catalogue picker, unmapping, each ledgered; everyone else refused."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.clients.models import Client
from careledger.exams.models import QuarantinedItem
from careledger.ledger.models import LedgerEntry
from careledger.observations.models import LocalCode, Observation
from conftest import make_citizen_id
from exams.test_import_pages import SOURCE, UNKNOWN, denials, hl7, run

pytestmark = pytest.mark.django_db

OTHER_UNKNOWN = "OBX|4|NM|XQ7^空腹血糖测定^L||5.4|mmol/L|||||F"


@pytest.fixture
def waiting(world):  # type: ignore[no-untyped-def]
    """A client of team A with two results quarantined for unknown codes."""
    birth = dt.date(1968, 7, 9)
    number = make_citizen_id(birth, "F", 21)
    enrolled = world.enrol(document_number=number, name="上官燕", sex="F", birth_date=birth)
    run(world.manager, hl7(number, UNKNOWN, OTHER_UNKNOWN), source_name=SOURCE)
    return Client.objects.get(pk=enrolled.client_id)


def map_form(code: str, local_code: str = "ZZ9", **kw: str) -> dict[str, str]:
    return {
        "source_name": SOURCE,
        "local_code": local_code,
        "local_name": kw.get("local_name", "谷丙转氨酶(新法)"),
        "code": code,
    }


def test_unknown_codes_are_listed_with_catalogue_suggestions(world, login, waiting):
    page = login(world.admin).get("/config/codes/").content.decode()
    assert "ZZ9" in page and "谷丙转氨酶(新法)" in page and SOURCE in page
    assert "XQ7" in page and "空腹血糖测定" in page
    # One-click suggestions: ALT for the first, glucose for the second.
    assert 'name="code" value="1742-6"' in page
    assert 'name="code" value="2345-7"' in page or "葡萄糖" in page
    assert "上官" not in page  # codes and counts only, nobody's results


def test_mapping_a_suggestion_retries_the_waiting_results(world, login, waiting):
    http = login(world.admin)
    response = http.post("/config/codes/map/", map_form("1742-6"))
    assert response.status_code == 302 and response["Location"] == "/config/codes/"
    mapping = LocalCode.objects.get(local_code="ZZ9")
    assert (mapping.source_name, mapping.code, mapping.mapped_by) == (SOURCE, "1742-6", world.admin)
    observation = Observation.objects.get(client=waiting, code="1742-6")
    assert observation.source_code == "ZZ9"
    assert QuarantinedItem.objects.get(local_code="ZZ9").status == "resolved"
    page = http.get("/config/codes/").content.decode()
    assert "ZZ9 已映射为" in page and "1 项等待中的结果已入库，0 项仍在隔离区" in page
    assert "现有映射" in page and "1742-6" in page
    actions = list(LedgerEntry.objects.values_list("action", flat=True))
    assert "catalogue.map" in actions and "exam.quarantine.retry" in actions


def test_the_catalogue_picker_finds_by_name_abbreviation_and_loinc(world, login, waiting):
    http = login(world.admin)
    params = {"source_name": SOURCE, "local_code": "XQ7", "local_name": "空腹血糖测定"}
    by_abbreviation = http.get("/config/catalogue/pick/", {**params, "q": "ALT"}).content.decode()
    assert "<html" not in by_abbreviation and 'value="1742-6"' in by_abbreviation
    assert 'name="local_code" value="XQ7"' in by_abbreviation
    by_loinc = http.get("/config/catalogue/pick/", {**params, "q": "2093-3"}).content.decode()
    assert 'value="2093-3"' in by_loinc
    by_name = http.get("/config/catalogue/pick/", {**params, "q": "总胆固醇"}).content.decode()
    assert 'value="2093-3"' in by_name
    nothing = http.get("/config/catalogue/pick/", {**params, "q": "不存在的项目"}).content.decode()
    assert "没有匹配的指标" in nothing
    # Without JavaScript the same search comes back inline on the page.
    page = http.get("/config/codes/", {"pick": "1", "q": "ALT"}).content.decode()
    assert page.count('value="1742-6"') >= 2


def test_a_code_that_is_not_in_the_catalogue_is_refused_clearly(world, login, waiting):
    http = login(world.admin)
    http.post("/config/codes/map/", map_form("0000-0"))
    assert not LocalCode.objects.exists()
    assert "未能映射" in http.get("/config/codes/").content.decode()
    assert QuarantinedItem.objects.filter(status="open").count() == 2


def test_unmapping_removes_the_mapping_and_is_ledgered(world, login, waiting):
    http = login(world.admin)
    http.post("/config/codes/map/", map_form("1742-6"))
    mapping = LocalCode.objects.get()
    response = http.post(f"/config/codes/{mapping.id}/unmap/")
    assert response.status_code == 302
    assert not LocalCode.objects.exists()
    assert LedgerEntry.objects.filter(action="catalogue.unmap").exists()
    assert Observation.objects.filter(code="1742-6").exists()  # what landed stays
    assert http.post(f"/config/codes/{mapping.id}/unmap/").status_code == 404


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst", "outsider"])
def test_only_the_admin_maps_codes_and_browses_the_catalogue(world, login, waiting, who):
    user = getattr(world, who)
    http = login(user)
    before = denials(user)
    for url in ("/config/codes/", "/config/catalogue/", "/config/catalogue/pick/?q=ALT"):
        response = http.get(url)
        assert response.status_code == 403, url
        assert "ZZ9" not in response.content.decode()
    assert http.post("/config/codes/map/", map_form("1742-6")).status_code == 403
    assert denials(user) == before + 4
    assert not LocalCode.objects.exists()


def test_another_institutions_mapping_cannot_be_removed(world, login):
    theirs = LocalCode.objects.create(
        institution=world.other_inst, source_name="外院", local_code="A1", code="1742-6"
    )
    assert login(world.admin).post(f"/config/codes/{theirs.id}/unmap/").status_code == 404
    assert LocalCode.objects.filter(pk=theirs.pk).exists()


def test_the_catalogue_browser_shows_units_ranges_limits_and_variation(world, login):
    http = login(world.admin)
    page = http.get("/config/catalogue/").content.decode()
    glucose = page[page.index("<strong>空腹血糖</strong>") :]
    glucose = glucose[: glucose.index("</tr>")]
    assert "2345-7" in glucose and "mmol/L" in glucose
    assert "mg/dL × 0.0555062" in glucose  # 1/18.016: mg/dL into mmol/L
    assert "&lt;2.8" in glucose  # its critical limits
    assert "CVi 4.7%" in glucose and "RCV -14% / +16%" in glucose
    assert 'id="panel-lipids"' in page
    found = http.get("/config/catalogue/", {"q": "ALT"}).content.decode()
    assert "1742-6" in found and "2093-3" not in found
