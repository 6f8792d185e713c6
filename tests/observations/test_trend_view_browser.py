"""The trend page in a real browser (Debian's Chromium via Playwright): the ECharts charts render
under the CSP with the right number of points, hovering a point shows its value, unit, date and
flag in Chinese, and a row opens the full table of results. Fails on any CSP violation or script
error. Screenshots: test-artifacts/screenshots/trends-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import TEST_PASSWORD, totp_code, totp_device
from observations.test_trends_data import five_years
from web.browser_kit import BrowserTab, launch_chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def sign_in(tab: BrowserTab, user) -> None:  # type: ignore[no-untyped-def]
    device = totp_device(user)
    tab.go("/login/")
    tab.page.fill("#id_username", user.username)
    tab.page.fill("#id_password", TEST_PASSWORD)
    tab.page.click("button[type=submit]")
    tab.page.wait_for_url(re.compile(r"/account/mfa/\?"))
    tab.page.fill("#id_code", totp_code(device))
    tab.page.click("button[type=submit]")
    tab.page.wait_for_url(tab.base + "/")


CHART_POINTS = """(code) => {
  const el = document.querySelector(`.trend-chart[data-code="${code}"]`);
  const chart = window.echarts.getInstanceByDom(el);
  if (!chart) { return null; }
  const option = chart.getOption();
  return {
    points: option.series[0].data.length,
    areas: option.series[0].markArea.data.length,
  };
}"""

POINT_PIXEL = """([code, index]) => {
  const el = document.querySelector(`.trend-chart[data-code="${code}"]`);
  const chart = window.echarts.getInstanceByDom(el);
  const datum = chart.getOption().series[0].data[index];
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, datum.value);
  const box = el.getBoundingClientRect();
  return [box.left + x, box.top + y];
}"""


def test_the_charts_render_and_the_tooltip_speaks_chinese(  # type: ignore[no-untyped-def]
    browser, live_server, transactional_db, world
):
    enrolled = world.enrol(name="欧阳明月", sex="M", birth_date=dt.date(1968, 3, 2))
    five_years(world.manager, enrolled.client_id)

    tab = BrowserTab(browser, live_server.url)
    sign_in(tab, world.manager)
    tab.go(f"/clients/{enrolled.client_id}/")
    tab.page.click(f"a[href='/clients/{enrolled.client_id}/trends/']")
    tab.page.wait_for_url(re.compile(r"/trends/$"))
    page = tab.page
    page.wait_for_function(
        "() => window.echarts && document.querySelectorAll('.trend-chart canvas').length === 10"
    )
    assert page.locator(".trend-chart").count() == 10
    glucose = page.evaluate(CHART_POINTS, "2345-7")
    assert glucose == {"points": 5, "areas": 1}
    protein = page.evaluate(CHART_POINTS, "2888-6")
    assert protein["points"] == 5
    assert "较上次体检的变化" in page.locator("#summary-title").inner_text()
    assert "肌酐" in page.locator("#summary-new").inner_text()
    tab.shot("trends-page")

    # Hover the last glucose point: value, unit, date and flag in the tooltip.
    page.locator("#panel-glucose").scroll_into_view_if_needed()
    x, y = page.evaluate(POINT_PIXEL, ["2345-7", 4])
    page.mouse.move(x, y)
    tooltip = page.locator(".trend-tooltip").filter(has_text="空腹血糖")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "7.40 mmol/L" in text
    assert "2024-05-12" in text
    assert "偏高" in text
    assert "参考范围 3.9–6.1" in text
    page.locator("#panel-glucose").screenshot(path=str(_shot("trends-glucose-tooltip")))

    # LDL-C: the lab wrote its own range (<3.37); the tooltip shows it beside ours.
    page.locator("#panel-lipids").scroll_into_view_if_needed()
    x, y = page.evaluate(POINT_PIXEL, ["18262-6", 0])
    page.mouse.move(x, y)
    ldl = page.locator(".trend-tooltip").filter(has_text="低密度脂蛋白")
    ldl.wait_for(state="visible")
    assert "检验机构参考范围 <3.37" in ldl.inner_text()

    # A row opens the full table of its results, newest first.
    row = page.locator("tr.trend-row[data-code='2345-7'] .row-toggle")
    row.click()
    results = page.locator("tr.results-row.show")
    results.wait_for(state="visible")
    dates = results.locator("tbody td:first-child").all_inner_texts()
    assert dates == ["2024-05-12", "2023-05-12", "2022-05-12", "2021-05-12", "2020-05-12"]
    page.locator("#panel-glucose").screenshot(path=str(_shot("trends-glucose-results")))
    tab.close()


def test_on_a_phone_the_charts_fit(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(sex="F", birth_date=dt.date(1975, 9, 1))
    five_years(world.manager, enrolled.client_id, first_year=2019)
    tab = BrowserTab(browser, live_server.url, width=390, height=844)
    sign_in(tab, world.nurse)
    tab.go(f"/clients/{enrolled.client_id}/trends/")
    tab.page.wait_for_function(
        "() => window.echarts && document.querySelectorAll('.trend-chart canvas').length === 10"
    )
    width = tab.page.evaluate(
        "() => document.querySelector('.trend-chart canvas').getBoundingClientRect().width"
    )
    assert 250 < width <= 390
    tab.shot("trends-phone")
    tab.page.locator("#change-summary").screenshot(path=str(_shot("trends-phone-summary")))
    tab.page.locator("#panel-glucose").screenshot(path=str(_shot("trends-phone-glucose")))
    tab.close()


def _shot(name: str):  # type: ignore[no-untyped-def]
    from web.browser_kit import SHOTS

    return SHOTS / f"{name}.png"
