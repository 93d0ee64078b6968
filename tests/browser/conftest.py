"""Fixtures for browser tests: Debian's headless Chromium, driven by Playwright, against a live server.

The app under test is the `app` fixture (its own SQLite file, or PostgreSQL/Redis when TEST_DATABASE_URL
and TEST_REDIS_URL are set) served by a real Werkzeug server on 127.0.0.1, with the in-process Dramatiq
`worker` running so retries and bulk jobs really happen. Without /usr/bin/chromium these tests skip,
except on CI (CI=true), where a missing browser fails the run.
"""

import os
import re
from pathlib import Path

import pytest

from tests.support.live import serving
from tests.support.staff import PASSWORD, make_user

#: Debian's Chromium; Playwright's own browser downloads are never used.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Where the screenshots for the docs go.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: How long any single browser step may wait (ms); pages here answer in milliseconds.
STEP_TIMEOUT_MS = 10_000


def _unavailable(reason):
    """Skip for lack of a browser, but fail on CI, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _breaker_out_of_the_way(monkeypatch):
    """These tests seed dozens of real failures on one endpoint; keep its circuit breaker from holding the
    rest back (it is tested elsewhere). Autouse, so it is set before the `app` fixture reads the settings."""
    monkeypatch.setenv("WEBHOOK_BREAKER_THRESHOLD", "1000")


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run; each test gets a fresh context (cookies, storage)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve app on a free port of 127.0.0.1 from a background thread; yield its base URL."""
    with serving(app) as url:
        yield url


@pytest.fixture
def page(chromium, live_server):
    """A page in a fresh browser context pointed at the live server. Uncaught script errors fail the test."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    yield page
    context.close()
    assert not errors, f"script errors in the browser: {errors}"


@pytest.fixture
def sign_in(app):
    """Create a user of the given role and sign in through the real login form."""

    def as_role(page, role):
        email = f"{role}@example.com"
        make_user(app, role, email)
        page.goto("/admin/")
        assert "/login" in page.url  # anonymous people are sent to sign in first
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^[^?]*/admin/"))
        page.locator("#status-tabs").wait_for()
        return email

    return as_role


@pytest.fixture
def screenshot(tmp_path):
    """Save a full-page screenshot of a page: to docs/screenshots/<name> when SCREENSHOTS=1 asks to regenerate
    the docs' pictures, else to the test's temporary folder (a test run never rewrites tracked files)."""
    folder = SCREENSHOTS if os.environ.get("SCREENSHOTS") == "1" else tmp_path

    def save(page, name):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=True)
        return folder / name

    return save
