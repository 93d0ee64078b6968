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


#: axe-core, run in the page by the accessibility checks (MPL-2.0; a test asset, never served by the app).
AXE_SOURCE = Path(__file__).resolve().parent / "assets" / "axe-4.11.0.min.js"


def _is_csp_violation(message):
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture
def new_page(chromium, live_server):
    """Open pages in fresh browser contexts (width, height, color_scheme). Uncaught script errors and any
    Content-Security-Policy violation (an inline script, handler or style the policy refused) fail the test."""
    contexts, errors = [], []

    def open_page(width=1440, height=900, color_scheme="light"):
        context = chromium.new_context(base_url=live_server, viewport={"width": width, "height": height},
                                       color_scheme=color_scheme)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
                if _is_csp_violation(message) else None)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"script errors or CSP violations in the browser: {errors}"


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context pointed at the live server (1440 x 900, light)."""
    return new_page()


def axe_violations(page, impacts=("serious", "critical")):
    """Run axe-core (WCAG 2 A and AA rules) on the page, once it has loaded (a page reached by a click may show its
    content before its stylesheet has arrived on a busy machine); return the violations of the given impacts."""
    page.wait_for_load_state("load")
    page.evaluate(AXE_SOURCE.read_text())  # evaluated through the debugging protocol, so the CSP does not apply
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
        .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 160))})))""")
    return [v for v in result if v["impact"] in impacts]


#: The looks every console review is made in: desktop and phone widths, each light and dark. The first is the one a
#: test's page opens in and comes back to.
LOOKS = ((1280, 900, "light"), (1280, 900, "dark"), (390, 844, "light"), (390, 844, "dark"))


def review_in_every_look(page, screenshot=None, name=None, looks=LOOKS):
    """Review the page as it stands in each look, switched in place (the same page, session and data, so a look costs
    a relayout, not a new browser, app and sign-in): nothing scrolls sideways and axe finds no serious violation.
    With screenshot and name, saves <name>-<width>-<scheme>.png of each. Then back to the first look."""
    problems = []
    for width, height, scheme in looks:
        _look(page, width, height, scheme)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            problems.append(f"{width} px {scheme}: {page.url} scrolls sideways ({scroll_width} px)")
        problems += [f"{width} px {scheme}: {page.url}: {v['id']} {v['nodes']}" for v in axe_violations(page)]
        if screenshot is not None and name:
            screenshot(page, f"{name}-{width}-{scheme}.png")
    _look(page, *looks[0])
    assert not problems, "\n".join(problems)


def _look(page, width, height, scheme):
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=scheme)
    # Colours are judged once a transition (a theme switch, a hovered button) has ended, not halfway.
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")


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
