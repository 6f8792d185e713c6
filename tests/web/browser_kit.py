"""Shared by the browser tests (tests/web, tests/accounts): launch Debian's Chromium through
Playwright, and a tab that fails the test on any CSP violation or script error. A plain module
imported as `web.browser_kit` (tests/ is on the path for `from conftest import`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def launch_chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Body of a `browser` fixture: skips where Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python playwright not installed")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between browser steps are ordinary synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


class BrowserTab:
    """One browser tab (zh-CN) that records CSP violations and script errors; `close()` fails
    the test if there were any."""

    def __init__(self, browser: Any, base_url: str, width: int = 1366, height: int = 900) -> None:
        self.base = base_url
        # A Chinese desk: the browser asks for zh-CN, which Django serves as zh-hans.
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))

    def _console(self, message: Any) -> None:
        # CSP violations and script errors; a 403/404 status is an expected page, not a problem.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(message.text)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str, *, full_page: bool = True) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        self.context.close()
        assert not self.problems, self.problems
