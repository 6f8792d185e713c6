"""The workbench pages: each renders for the roles that may open it, in Chinese (the default)
and in English (the language cookie); the shell's security headers are on every answer; what a
client's name contains is shown as text, never run as markup."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from careledger.clients import services
from careledger.clients.models import Client
from careledger.clients.selectors import ClientSummary
from conftest import TEST_PASSWORD, make_citizen_id, totp_code, totp_device

SCRIPT = "<script>alert(1)</script>"
# A <script> element without a src, a style attribute or a <style> element: all refused by the CSP.
INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\sstyle\s*=|<style[\s>]", re.IGNORECASE)


def english(client: HttpClient) -> HttpClient:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page(client: HttpClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    html = response.content.decode()
    assert not INLINE.search(html), f"inline script or style on {url}: {INLINE.search(html)}"
    return html


@pytest.fixture
def enrolled(world):  # type: ignore[no-untyped-def]
    """One client of care team A, enrolled by the team's health manager."""
    return world.enrol()


# ---- sign-in ------------------------------------------------------------------------------


def test_login_page_is_chinese_by_default_and_english_by_cookie(client, db):  # type: ignore[no-untyped-def]
    html = page(client, reverse("web:login"))
    assert "员工登录" in html and 'lang="zh-hans"' in html
    html = page(english(client), reverse("web:login"))
    assert "Staff sign in" in html and 'lang="en"' in html


def test_failed_login_says_one_thing_and_keeps_the_username(client, world):  # type: ignore[no-untyped-def]
    response = client.post(reverse("web:login"), {"username": "manager", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名或密码错误。" in html
    assert 'value="manager"' in html
    assert 'aria-invalid="true"' in html


def test_login_with_the_right_password_and_code_lands_on_the_workbench(client, world):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    response = client.post(
        reverse("web:login"), {"username": "manager", "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:mfa_verify"))
    assert "两步验证" in response.content.decode()
    response = client.post(response.redirect_chain[-1][0], {"code": totp_code(device)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:home")
    assert "manager，您好" in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):  # type: ignore[no-untyped-def]
    response = client.get(reverse("clients:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


# ---- the workbench home of every role -----------------------------------------------------

ROLE_HOMES = [
    # (user, role label zh, role label en, offers enrolment, offers the care-team page)
    ("manager", "健康管理师", "Health manager", True, False),
    ("doctor", "医生", "Doctor", False, False),
    ("nurse", "随访护士", "Follow-up nurse", False, False),
    ("admin", "机构管理员", "Institution admin", False, True),
    ("auditor", "审计员", "Auditor", False, True),
    ("analyst", "数据分析员", "Data analyst", False, False),
]


@pytest.mark.parametrize(("who", "zh", "en", "enrols", "teams"), ROLE_HOMES)
def test_home_of_each_role(world, login, who, zh, en, enrols, teams):  # type: ignore[no-untyped-def]
    client = login(getattr(world, who))
    html = page(client, reverse("web:home"))
    assert "工作台" in html and zh in html
    assert (reverse("clients:enrol") in html) is enrols
    assert (reverse("web:teams") in html) is teams
    html = page(english(client), reverse("web:home"))
    assert "Workbench" in html and en in html


CONFIGURATION_MENU = (
    "questionnaires_config:list",
    "tagging_config:list",
    "advice_config:catalogue",
)


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "admin", "auditor", "analyst"])
def test_only_the_admin_menu_offers_questionnaires_tag_rules_and_advice(world, login, who):  # type: ignore[no-untyped-def]
    html = page(login(getattr(world, who)), reverse("web:home"))
    for name in CONFIGURATION_MENU:
        assert (f'href="{reverse(name)}"' in html) is (who == "admin"), name
    if who == "admin":
        assert "问卷" in html and "标签规则" in html


@pytest.mark.parametrize("who", ["admin", "auditor", "analyst"])
def test_roles_without_client_access_are_told_why(world, login, who):  # type: ignore[no-untyped-def]
    html = page(login(getattr(world, who)), reverse("web:home"))
    assert "您的角色职责" in html
    assert reverse("clients:search") not in html


# ---- client pages -------------------------------------------------------------------------


def test_my_clients_pages_through_the_list(world, login, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("careledger.clients.selectors.PAGE_SIZE", 2)
    for _ in range(3):
        world.enrol()
    client = login(world.manager)
    html = page(client, reverse("clients:list"))
    assert "我的照护团队共有 3 位客户" in html
    assert "第 1 / 2 页" in html and 'href="?page=2"' in html
    assert html.count('class="client-link"') == 2
    html = page(client, reverse("clients:list") + "?page=2")
    assert "第 2 / 2 页" in html and html.count('class="client-link"') == 1
    html = page(english(client), reverse("clients:list"))
    assert "3 clients in my care teams" in html and "Page 1 of 2" in html


def test_empty_list_offers_enrolment_only_to_those_who_may_enrol(world, login):  # type: ignore[no-untyped-def]
    html = page(login(world.manager), reverse("clients:list"))
    assert "您的照护团队暂无客户。" in html
    assert "您和团队同事开卡的客户都会显示在这里。" in html
    html = page(login(world.nurse), reverse("clients:list"))
    assert "您的照护团队暂无客户。" in html
    assert "健康管理师为您所在照护团队开卡的客户会显示在这里。" in html
    assert reverse("clients:enrol") not in html


def test_search_finds_shows_nothing_or_explains(world, login, enrolled):  # type: ignore[no-untyped-def]
    phone = Client.objects.get(pk=enrolled.client_id).phone
    client = login(world.manager)
    url = reverse("clients:search")
    html = page(client, url)
    assert "可按以下信息查询" in html
    html = page(client, f"{url}?q={phone}")
    assert "找到 1 位客户" in html and enrolled.card_number in html
    html = page(client, f"{url}?q=13800000000")
    assert "您的照护团队中没有匹配的客户。" in html
    html = page(client, f"{url}?q=%23%23%3F%3F")
    assert "无法识别您输入的查询内容。" in html and 'aria-invalid="true"' in html
    html = page(english(client), f"{url}?q=%23%23%3F%3F")
    assert "We could not tell what kind of search this is." in html


def test_profile_is_full_for_the_manager_and_masked_for_the_nurse(world, login, enrolled):  # type: ignore[no-untyped-def]
    record = Client.objects.get(pk=enrolled.client_id)
    url = reverse("clients:profile", args=[enrolled.client_id])
    html = page(login(world.manager), url)
    assert "客户档案" in html and "张三明" in html and record.phone in html
    assert enrolled.card_number in html and "变更记录" in html and "开卡建档" in html
    assert reverse("clients:edit", args=[enrolled.client_id]) in html
    for section in ("questionnaires:list", "advice:sheet", "assessment:risk", "records:record"):
        assert reverse(section, args=[enrolled.client_id]) in html, section
    html = page(login(world.nurse), url)
    assert "张*明" in html and "张三明" not in html
    assert record.phone not in html and f"{record.phone[:3]}****{record.phone[-4:]}" in html
    assert record.document_number not in html
    assert "身份信息已脱敏" in html and "已隐藏" in html
    assert reverse("clients:edit", args=[enrolled.client_id]) not in html
    html = page(english(login(world.nurse)), url)
    assert "Identifiers masked for your role" in html


def test_edit_form_and_history_name_the_changed_fields(world, login, enrolled):  # type: ignore[no-untyped-def]
    client = login(world.manager)
    html = page(client, reverse("clients:edit", args=[enrolled.client_id]))
    assert "编辑客户信息" in html and 'value="张三明"' in html and "修改原因" in html
    data = services.current_input(Client.objects.get(pk=enrolled.client_id))
    data.address = "浙江省杭州市滨江区江南大道1号"
    services.do_update_client(
        actor=world.manager, client_id=enrolled.client_id, data=data, reason="客户搬家"
    )
    html = page(client, reverse("clients:profile", args=[enrolled.client_id]))
    assert "修改了：</span>联系地址" in html and "客户搬家" in html
    html = page(client, reverse("clients:revision", args=[enrolled.client_id, 1]))
    assert "基本信息 · 第 1 版" in html and "证件号码" in html and "居民身份证" in html
    assert "浙江省杭州市西湖区文三路100号" in html
    html = page(english(client), reverse("clients:revision", args=[enrolled.client_id, 2]))
    assert "Registry entry, version 2" in html and "Document number" in html


def test_care_teams_page_for_the_admin(world, login):  # type: ignore[no-untyped-def]
    html = page(login(world.admin), reverse("web:teams"))
    assert "照护团队" in html and "A组" in html and "健康管理部" in html
    assert "manager" in html and "健康管理师" in html


# ---- enrolment form -----------------------------------------------------------------------


def enrol_form(world, **overrides):  # type: ignore[no-untyped-def]
    birth = dt.date(1985, 6, 15)
    data = {
        "name": "林晓梅",
        "sex": "F",
        "birth_date": birth.isoformat(),
        "document_type": "resident_id",
        "document_number": make_citizen_id(birth, "F", 77),
        "phone": "13912345678",
        "address": "浙江省杭州市西湖区文三路100号",
        "emergency_contact_name": "林大海",
        "emergency_contact_phone": "13712345678",
        "emergency_contact_relation": "parent",
        "membership_level": "gold",
        "care_team_ids": [str(world.team_a.id)],
    }
    data.update(overrides)
    return data


def test_enrolment_form_renders_empty(world, login):  # type: ignore[no-untyped-def]
    html = page(login(world.manager), reverse("clients:enrol"))
    assert "客户开卡" in html and "身份信息" in html and "居民身份证" in html
    assert "港澳居民来往内地通行证" in html and "钻石卡" in html and "兄弟姐妹" in html
    assert 'for="id_name"' in html and "<legend" in html
    html = page(english(login(world.manager)), reverse("clients:enrol"))
    assert "Enrol and issue card" in html


def test_enrolment_shows_each_error_beside_its_field_and_keeps_what_was_typed(world, login):  # type: ignore[no-untyped-def]
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    data = enrol_form(world, birth_date=future, document_number="110101199003071234", phone="12345")
    response = login(world.manager).post(reverse("clients:enrol"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Client.objects.exists()
    assert "请修改下方标出的内容。" in html
    for field in ("birth_date", "document_number", "phone"):
        assert re.search(rf'id="id_{field}"[^>]*is-invalid|is-invalid[^>]*id="id_{field}"', html)
        assert f'id="id_{field}_err"' in html
    assert "校验码不正确" in html and "出生日期不能晚于今天" in html
    assert "中国大陆手机号码应为 11 位，当前为 5 位。" in html
    for value in ("林晓梅", "12345", "110101199003071234", future, "林大海", "13712345678"):
        assert f'value="{value}"' in html, value
    assert re.search(r'value="parent" selected', html) and re.search(r'value="gold" selected', html)
    assert re.search(r'value="F" id="id_sex_\d" checked', html)


def test_enrolment_issues_a_card_and_shows_the_profile(world, login):  # type: ignore[no-untyped-def]
    response = login(world.manager).post(reverse("clients:enrol"), enrol_form(world), follow=True)
    html = response.content.decode()
    record = Client.objects.get()
    card = record.cards.get().number
    assert response.redirect_chain[-1][0] == reverse("clients:profile", args=[record.id])
    assert f"开卡成功，卡号 {card}" in html and "林晓梅" in html and "金卡" in html


def test_a_name_with_markup_is_refused_at_enrolment(world, login):  # type: ignore[no-untyped-def]
    data = enrol_form(world, name=f"{SCRIPT}张三")
    response = login(world.manager).post(reverse("clients:enrol"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Client.objects.exists()
    assert 'id="id_name_err"' in html and "不允许使用" in html
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;张三" in html


def test_a_stored_name_with_markup_renders_as_text(db):  # type: ignore[no-untyped-def]
    row = ClientSummary(
        id=uuid.uuid4(),
        card_number="100100000018",
        membership_level="金卡",
        name=SCRIPT,
        sex="F",
        age=40,
        phone="13912345678",
        document_type="resident_id",
        document_number="110101198506150021",
        team_names=(SCRIPT,),
        enrolled_at=timezone.now(),
        masked=False,
    )
    html = render_to_string("clients/_table.html", {"rows": [row]})
    assert SCRIPT not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    html = render_to_string("clients/_field_value.html", {"key": "address", "value": SCRIPT})
    assert SCRIPT not in html and "&lt;script&gt;" in html


# ---- errors and headers -------------------------------------------------------------------


def test_refusal_and_missing_pages(world, login, client):  # type: ignore[no-untyped-def]
    html = page(login(world.admin), reverse("clients:list"), status=403)
    assert "您无权打开此页面。" in html and "返回工作台" in html
    missing = reverse("clients:profile", args=[uuid.uuid4()])
    html = page(login(world.manager), missing, status=404)
    assert "您访问的页面不存在。" in html
    client.logout()
    html = page(client, "/no-such-page/", status=404)
    assert "您访问的页面不存在。" in html and reverse("web:login") in html
    html = page(english(client), "/no-such-page/", status=404)
    assert "This page does not exist." in html


def test_an_expired_form_explains_itself(world):  # type: ignore[no-untyped-def]
    strict = HttpClient(enforce_csrf_checks=True)
    response = strict.post(reverse("web:login"), {"username": "manager", "password": "x"})
    assert response.status_code == 403
    assert "页面已过期。" in response.content.decode()


def test_server_error_page_needs_no_request(db):  # type: ignore[no-untyped-def]
    html = render_to_string("500.html")
    assert "系统出现了问题。" in html


def test_security_headers(world, login, enrolled):  # type: ignore[no-untyped-def]
    client = login(world.manager)
    for url in (
        reverse("web:home"),
        reverse("clients:list"),
        reverse("clients:profile", args=[enrolled.client_id]),
        reverse("clients:enrol"),
    ):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cache-Control"] == "no-store"
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Request-ID"] in response.content.decode()
