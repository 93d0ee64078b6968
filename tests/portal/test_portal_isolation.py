"""Authorization probes: a link's session reaches its own endpoints' data and nothing else, whatever the path, id
or method; dead links, forged tokens and missing capabilities reach nothing; no probe reads or writes another
partner's rows."""

from datetime import timedelta

import pytest

from app.audit import CLI
from app.extensions import db
from app.models import AuditEntry, Delivery, Endpoint, PortalLink, utcnow
from app.portal.links import revoke_link
from tests.portal.conftest import make_link, open_portal, text
from tests.support.factories import update

#: Portal requests naming the other partner's rows: (method, path; {theirs} an endpoint id, {their_delivery} one of
#: its deliveries, {their_message} that delivery's message).
CROSS_PARTNER = [
    ("GET", "/portal/deliveries/{their_delivery}"),
    ("GET", "/portal/deliveries/{their_delivery_lower}"),
    ("GET", "/portal/deliveries/{their_message}"),
    ("POST", "/portal/deliveries/{their_delivery}/retry"),
    ("POST", "/portal/deliveries/{their_delivery}/replay"),
    ("GET", "/portal/endpoints/{theirs}"),
    ("POST", "/portal/endpoints/{theirs}/test"),
    ("POST", "/portal/endpoints/{theirs}/settings"),
    ("POST", "/portal/endpoints/{theirs}/rotate"),
    ("POST", "/portal/endpoints/{theirs}/secret"),
    ("GET", "/portal/deliveries?endpoint_id={theirs}"),
    ("GET", "/portal/deliveries/dlv_01JNOSUCHDELIVERY000000000"),
    ("GET", "/portal/endpoints/ep_nope"),
    ("GET", "/portal/messages/{their_message}"),
    ("GET", "/portal/attempts/1"),
]
#: Everything outside the portal: staff pages, the API, operations pages.
OFF_PORTAL = [
    "/admin/", "/sync", "/admin/overview/", "/admin/endpoints/", "/admin/endpoints/{theirs}", "/admin/endpoints/{mine}",
    "/admin/log/{their_delivery}", "/admin/log/{my_delivery}", "/admin/api-keys/", "/admin/audit/", "/admin/users/",
    "/api/v1/deliveries", "/api/v1/deliveries/{their_delivery}", "/api/v1/portal-links",
    "/api/v1/endpoints/{theirs}/rotate-secret", "/metrics", "/login",
]
#: What a view-only link may not do to its own endpoint and delivery.
NEEDS_CAPABILITY = [
    "/portal/deliveries/{my_delivery}/retry", "/portal/deliveries/{my_delivery}/replay",
    "/portal/endpoints/{mine}/test", "/portal/endpoints/{mine}/settings", "/portal/endpoints/{mine}/rotate",
    "/portal/endpoints/{mine}/secret",
]
#: Portal pages a dead link's session tries.
OWN_PAGES = [
    ("GET", "/portal/"), ("GET", "/portal/deliveries"), ("GET", "/portal/deliveries/{my_delivery}"),
    ("GET", "/portal/endpoints/{mine}"), ("POST", "/portal/deliveries/{my_delivery}/replay"),
    ("POST", "/portal/endpoints/{mine}/secret"),
]


def _ids(partners):
    their_delivery = partners.their_deliveries[0]
    message = partners.their_messages[0]
    return {"theirs": partners.theirs.id, "mine": partners.mine.id, "their_delivery": their_delivery,
            "their_delivery_lower": their_delivery.lower(), "their_message": message,
            "my_delivery": partners.my_deliveries[0]}


def snapshot(app):
    """Every row a probe could change, and the audit entries besides openings of links."""
    with app.app_context():
        endpoints = [(e.id, e.url, e.event_types, e.secret_encrypted, e.retired_secrets, e.state)
                     for e in db.session.query(Endpoint).order_by(Endpoint.id)]
        deliveries = [(d.id, d.status, d.manual_retry_at, d.next_trigger, d.next_triggered_by, d.attempt_count)
                      for d in db.session.query(Delivery).order_by(Delivery.id)]
        audit = [(e.actor, e.action, e.target_ids) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
                 if e.action != "portal.open"]
        return endpoints, deliveries, audit


def _probe(client, method, path, csrf):
    data = {"csrf_token": csrf, "url": "http://127.0.0.1:9/stolen", "event_types": "*", "grace_hours": "1"}
    return client.open(path, method=method, data=data if method != "GET" else None)


@pytest.mark.parametrize(("method", "path"), CROSS_PARTNER)
def test_other_partners_rows_answer_404_and_stay_untouched(app, client, partners, portal, method, path):
    before = snapshot(app)
    answer = _probe(client, method, path.format(**_ids(partners)), portal.csrf)
    assert answer.status_code == 404
    assert partners.theirs.id not in answer.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(("path", "method"), [
    (path, method) for path in OFF_PORTAL
    for method in (("GET", "POST", "PUT", "PATCH", "DELETE") if path.startswith("/api/") else ("GET", "POST"))])
def test_a_portal_session_reaches_nothing_off_the_portal(app, client, partners, portal, path, method):
    before = snapshot(app)
    answer = _probe(client, method, path.format(**_ids(partners)), portal.csrf)
    assert answer.status_code == 404
    assert snapshot(app) == before


def test_lists_show_only_the_links_endpoints(app, client, partners, portal):
    ids = _ids(partners)
    home = text(client.get("/portal/"))
    assert partners.mine.id in home and partners.theirs.id not in home
    for query in ("", "?q=%232000", "?q=%231005", f"?q={ids['their_delivery']}", f"?q={ids['their_message']}",
                  "?status=pending"):
        page = _rows(client.get(f"/portal/deliveries{query}"))
        assert all(d not in page for d in partners.their_deliveries), query
    found = _rows(client.get("/portal/deliveries?q=%231005"))
    assert partners.my_deliveries[0] in found
    assert "No delivery matches" in text(client.get(f"/portal/deliveries?q={ids['their_delivery']}"))


def _rows(response):
    """The list's rows only (the search box repeats what was searched)."""
    page = text(response)
    return page[page.index('id="deliveries"'):]


@pytest.mark.parametrize("ending", ["expired", "revoked"])
@pytest.mark.parametrize(("method", "path"), OWN_PAGES)
def test_an_expired_or_revoked_links_session_stops_at_once(app, client, partners, portal, ending, method, path):
    if ending == "expired":
        update(app, PortalLink, portal.id, expires_at=utcnow() - timedelta(seconds=1))
    else:
        with app.app_context():
            revoke_link(portal.id, actor=CLI)
    before = snapshot(app)
    answer = _probe(client, method, path.format(**_ids(partners)), portal.csrf)
    assert answer.status_code == 404
    assert snapshot(app) == before


def _forgeries(app, link):
    with app.app_context():
        stored = db.session.get(PortalLink, link.id).token_hash
    flipped = link.token[:-1] + ("A" if link.token[-1] != "A" else "B")
    return {"empty": "", "prefix only": "hyp_", "random": "hyp_" + "x" * 43, "the stored digest": stored,
            "the link id": link.id, "one character changed": flipped, "upper case": link.token.upper(),
            "longer": link.token + "x", "an API key's shape": "hky_" + link.token[4:], "huge": "hyp_" + "a" * 5000}


@pytest.mark.parametrize("forgery", ["empty", "prefix only", "random", "the stored digest", "the link id",
                                     "one character changed", "upper case", "longer", "an API key's shape", "huge"])
def test_a_forged_token_opens_nothing(app, partners, forgery):
    link = make_link(app, [partners.mine.id])
    browser = app.test_client()
    assert open_portal(browser, _forgeries(app, link)[forgery]) is None
    assert browser.get("/portal/").status_code == 404
    assert browser.get(f"/portal/deliveries/{partners.my_deliveries[0]}").status_code == 404


@pytest.mark.parametrize("ending", ["expired", "revoked"])
def test_a_dead_links_token_opens_nothing(app, partners, ending):
    link = make_link(app, [partners.mine.id])
    if ending == "expired":
        update(app, PortalLink, link.id, expires_at=utcnow() - timedelta(seconds=1))
    else:
        with app.app_context():
            revoke_link(link.id, actor=CLI)
    browser = app.test_client()
    assert open_portal(browser, link.token) is None
    assert browser.get("/portal/").status_code == 404


@pytest.mark.parametrize("path", NEEDS_CAPABILITY)
def test_a_view_only_link_changes_nothing(app, partners, path):
    link = make_link(app, [partners.mine.id], capabilities=())
    browser = app.test_client()
    csrf = open_portal(browser, link.token)
    before = snapshot(app)
    assert _probe(browser, "POST", path.format(**_ids(partners)), csrf).status_code == 404
    assert snapshot(app) == before


@pytest.mark.parametrize("csrf", [None, "forged"])
def test_every_portal_post_needs_the_csrf_token(app, client, partners, portal, csrf):
    before = snapshot(app)
    data = {"csrf_token": csrf} if csrf else {}
    answer = client.post(f"/portal/deliveries/{partners.my_deliveries[0]}/replay", data=data)
    assert answer.status_code == 400
    assert snapshot(app) == before


def test_a_tampered_session_cookie_is_no_session(app, partners, portal):
    browser = app.test_client()
    browser.set_cookie("session", f'{{"portal_link": "{portal.id}"}}')
    assert browser.get("/portal/").status_code == 404
