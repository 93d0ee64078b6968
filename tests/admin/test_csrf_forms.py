"""Every POST form on the staff pages carries the session's CSRF token, written once by hy.csrf_input()."""

import re
from pathlib import Path

from tests.inbound.sources_helpers import new_event, new_source
from tests.test_odd_input import get_routes, rows  # noqa: F401  rows is a fixture

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: Flask-Admin's own templates, forked: they keep Flask-Admin's markup (tests/admin/test_forked_templates.py).
FORKED = {"admin/actions.html", "admin/model/layout.html", "admin/model/row_actions.html", "admin/hookyard_page.html"}
POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
TOKEN_INPUT = re.compile(r'<input\b[^>]*\bname="csrf_token"[^>]*\bvalue="[^"]+"[^>]*>')


def test_no_template_writes_the_csrf_input_by_hand():
    by_hand = [path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html")
               if 'name="csrf_token"' in path.read_text()]
    assert set(by_hand) == {"admin/hookyard_macros.html", "admin/actions.html", "admin/model/row_actions.html"}


def test_every_post_form_on_every_staff_page_carries_the_token(app, client, rows):  # noqa: F811
    source_id, _ = new_source(app)
    ids = {"delivery_id": rows["delivery"], "endpoint_id": rows["endpoint"], "job_id": rows["job"],
           "source_id": source_id, "event_id": new_event(app, source_id), "kind": "backlog"}
    forms = 0
    for rule in get_routes(app):
        if not rule.rule.startswith("/admin") or "export" in rule.rule or rule.rule.endswith(".json"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", ids[name])
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for form in POST_FORM.findall(response.get_data(as_text=True)):
            forms += 1
            assert len(TOKEN_INPUT.findall(form)) == 1, (path, form)
    assert forms > 40  # the sign-out form, the row buttons, the settings, the endpoint and source controls...
