"""A fresh install in a real browser: the first admin signs in with a one-time password, chooses their own and lands
on the overview, which (like the monitor) says what to do next while no endpoint exists."""

import re

import pytest
from playwright.sync_api import expect

from app.staff.users import create_user
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser

#: The password the first admin chooses.
CHOSEN = "a password of my own"


def one_time_admin(app):
    """The first admin, as `users create --one-time` makes them; return (email, one-time password)."""
    with app.app_context():
        user, password = create_user("admin@localhost", "admin")
        return user.email, password


def test_the_first_sign_in_lands_on_the_overview_with_next_steps(app, new_page, make_endpoint):
    email, password = one_time_admin(app)
    page = new_page(1280, 900)
    page.goto("/admin/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/account/password$"))
    page.fill("#current", password)
    page.fill("#new", CHOSEN)
    page.fill("#repeat", CHOSEN)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(re.compile(r"/admin/overview/$"))
    steps = page.locator("#first-steps")
    expect(steps).to_contain_text("No endpoints yet")
    expect(steps.locator("[data-step]")).to_have_count(3)
    assert axe_violations(page) == []

    page.goto("/admin/")
    expect(page.locator("#first-steps [data-step=send]")).to_be_visible()
    page.locator("#first-steps [data-step=endpoint]").click()
    page.wait_for_url(re.compile(r"/admin/endpoints/new$"))

    make_endpoint(name="Shop")  # the next step taken: the hint is gone
    page.goto("/admin/overview/")
    expect(page.locator("#kpi-cards")).to_be_visible()
    expect(page.locator("#first-steps")).to_have_count(0)
    page.goto("/admin/")
    expect(page.locator("#status-tabs")).to_be_visible()
    expect(page.locator("#first-steps")).to_have_count(0)


@pytest.mark.parametrize("width, scheme", [(390, "dark"), (1280, "dark"), (390, "light")])
def test_the_next_steps_read_well_for_a_viewer(new_page, sign_in, width, scheme):
    page = new_page(width, 844, scheme)
    sign_in(page, "viewer")
    steps = page.locator("#first-steps")
    expect(steps).to_contain_text("Ask an admin to create an endpoint")
    expect(steps.locator("[data-step]")).to_have_count(1)  # the API docs; the rest needs another role
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
