"""Real-browser fixtures: the app served on loopback, and Playwright driving Debian's Chromium.

Use ``live_server`` (base URL of the running app) and ``page`` (a Playwright page, phone-sized
with ``@pytest.mark.parametrize("viewport", ["phone"], indirect=True)``). Screenshots go to
``test-artifacts/screenshots`` (or ``NUEVONORTE_SCREENSHOT_DIR``) via ``screenshot(page, name)``.
Never downloads a browser: without /usr/bin/chromium the tests skip (fail under REQUIRE_ALL).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.support import require

CHROMIUM = os.environ.get("NUEVONORTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: axe-core for the accessibility checks (``make install-test`` fetches it), and what it checks.
AXE = Path(__file__).resolve().parent.parent / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCREENSHOT_DIR = Path(
    os.environ.get(
        "NUEVONORTE_SCREENSHOT_DIR", Path(__file__).parent.parent / "test-artifacts" / "screenshots"
    )
)


def _closed_before_sending(app: Flask) -> Any:
    """``app`` with each response read whole and closed before the server sends it.

    Werkzeug's development server closes a response only after draining the socket, and a
    browser that resets the connection makes that drain raise first: the static file behind
    a 304 then stays open until garbage collection, a ResourceWarning (an error here) in
    whichever test runs next. Gunicorn, which the archive runs under, closes it in all cases.
    """

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, _closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def _browser() -> Iterator[Any]:
    require(
        shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}"
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    """The viewport size: "desktop" unless parametrized indirectly with "phone"."""
    return VIEWPORTS[getattr(request, "param", "desktop")]


@pytest.fixture
def page(_browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    """A fresh browser context and page (no shared cookies between tests)."""
    context = _browser.new_context(viewport=viewport, locale="es-MX")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


FAKE_MICROPHONE = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="module")
def recording_browser(_browser: Any) -> Iterator[Any]:
    """Chromium with a fake microphone that needs no permission prompt.

    Launched through the shared Playwright instance (one sync Playwright per process).
    """
    browser = _browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MICROPHONE)
    yield browser
    browser.close()


@pytest.fixture
def phone(recording_browser: Any) -> Iterator[Any]:
    """A phone-sized page of the recording browser, microphone allowed."""
    context = recording_browser.new_context(viewport=VIEWPORTS["phone"], locale="es-MX")
    context.grant_permissions(["microphone"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot for people to look at; returns its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any) -> list[str]:
    """What axe-core finds on the page against WCAG 2.1 A and AA (the page's context must bypass
    the CSP, only so that axe can be injected as a script tag)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
        }""",
        WCAG_TAGS,
    )
    return list(found)
