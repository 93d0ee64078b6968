"""What a link allows, done through the staff operations, under their cooldowns and caps, audited as the partner."""

from app.extensions import db
from app.models import AttemptTrigger, AuditEntry, Delivery, DeliveryStatus, Endpoint
from tests.portal.conftest import make_link, open_portal, text
from tests.support.factories import load_endpoint, update


def _entries(app, action):
    with app.app_context():
        return [(e.actor, e.target_ids) for e in db.session.query(AuditEntry).filter_by(action=action)]


def test_partner_replays_its_delivery_as_itself_once_per_cooldown(app, client, partners, portal):
    delivery_id = partners.my_deliveries[0]
    answer = client.post(f"/portal/deliveries/{delivery_id}/replay", data={"csrf_token": portal.csrf})
    assert answer.status_code == 302 and answer.location.endswith(f"/portal/deliveries/{delivery_id}")
    with app.app_context():
        row = db.session.get(Delivery, delivery_id)
        assert row.status is DeliveryStatus.PENDING and row.next_trigger is AttemptTrigger.REPLAY
        assert row.next_triggered_by == f"portal:{portal.id}"
    assert _entries(app, "delivery.replay") == [(f"portal:{portal.id}", [delivery_id])]
    again = client.post(f"/portal/deliveries/{delivery_id}/replay", data={"csrf_token": portal.csrf},
                        follow_redirects=True)
    assert "cooldown" in text(again)
    assert len(_entries(app, "delivery.replay")) == 1


def test_partner_replays_stop_at_the_hourly_cap(app, client, partners, portal):
    app.config["MONITOR_RETRY_HOURLY_CAP"] = 1
    first, second = partners.my_deliveries[:2]
    assert client.post(f"/portal/deliveries/{first}/replay", data={"csrf_token": portal.csrf}).status_code == 302
    page = client.post(f"/portal/deliveries/{second}/replay", data={"csrf_token": portal.csrf}, follow_redirects=True)
    assert "Retry limit reached" in text(page)
    assert [ids for _, ids in _entries(app, "delivery.replay")] == [[first]]


def test_partner_sends_a_test_event_to_its_endpoint(app, client, partners, portal):
    answer = client.post(f"/portal/endpoints/{partners.mine.id}/test", data={"csrf_token": portal.csrf})
    assert answer.status_code == 302
    assert _entries(app, "endpoint.test") == [(f"portal:{portal.id}", [partners.mine.id])]
    assert client.get(answer.location).status_code == 200


def test_partner_changes_url_and_event_types(app, client, partners, portal, receiver):
    new_url = receiver.url("/v2")
    answer = client.post(f"/portal/endpoints/{partners.mine.id}/settings",
                         data={"csrf_token": portal.csrf, "url": new_url, "event_types": "order.created, qr.*"})
    assert answer.status_code == 302
    endpoint = load_endpoint(app, partners.mine.id)
    assert endpoint.url == new_url and endpoint.event_types == ["order.created", "qr.*"]
    assert _entries(app, "endpoint.update")[-1][0] == f"portal:{portal.id}"


def test_a_bad_url_is_refused_with_a_reason_and_changes_nothing(app, client, partners, portal):
    page = client.post(f"/portal/endpoints/{partners.mine.id}/settings", follow_redirects=True,
                       data={"csrf_token": portal.csrf, "url": "ftp://example.com/", "event_types": ""},
                       headers={"Referer": f"http://localhost/portal/endpoints/{partners.mine.id}"})
    assert "url" in text(page).lower()
    assert load_endpoint(app, partners.mine.id).url == partners.mine.url


def test_partner_rotates_with_grace_and_sees_the_new_secret_once(app, client, partners, portal):
    page = client.post(f"/portal/endpoints/{partners.mine.id}/rotate", data={"csrf_token": portal.csrf,
                                                                            "grace_hours": "2"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    endpoint = load_endpoint(app, partners.mine.id)
    assert len(endpoint.retired_secrets) == 1
    with app.app_context():
        from app.credentials import crypto

        assert crypto.decrypt(db.session.get(Endpoint, partners.mine.id).secret_encrypted) in text(page)
    assert _entries(app, "endpoint.rotate_secret") == [(f"portal:{portal.id}", [partners.mine.id])]


def test_partner_with_the_secret_capability_reads_it_audited(app, client, partners, portal):
    page = client.post(f"/portal/endpoints/{partners.mine.id}/secret", data={"csrf_token": portal.csrf})
    assert partners.mine.secret in text(page)
    assert _entries(app, "portal.secret_view") == [(f"portal:{portal.id}", [partners.mine.id])]
    assert partners.mine.secret not in text(client.get(f"/portal/endpoints/{partners.mine.id}"))


def test_view_only_pages_offer_no_action(app, partners):
    link = make_link(app, [partners.mine.id], capabilities=())
    browser = app.test_client()
    open_portal(browser, link.token)
    page = text(browser.get(f"/portal/deliveries/{partners.my_deliveries[0]}"))
    assert 'id="replay"' not in page and 'id="retry"' not in page
    endpoint_page = text(browser.get(f"/portal/endpoints/{partners.mine.id}"))
    assert 'id="send-test"' not in endpoint_page and 'id="show-secret"' not in endpoint_page


def test_delivery_page_shows_attempts_with_secrets_masked(app, client, partners, portal, worker, broker):
    from tests.support.waiting import wait_until

    update(app, Endpoint, partners.mine.id, headers_encrypted={})
    delivery_id = partners.my_deliveries[0]
    wait_until(lambda: 'data-attempt="1"' in text(client.get(f"/portal/deliveries/{delivery_id}")) or None, timeout=20)
    page = text(client.get(f"/portal/deliveries/{delivery_id}"))
    assert "webhook-signature" in page and "v1," not in page
    assert partners.mine.secret not in page


def test_opening_a_link_is_audited_as_the_partner(app, partners, portal):
    assert _entries(app, "portal.open") == [(f"portal:{portal.id}", [portal.id])]


def test_a_refused_action_says_why_on_the_page_it_came_from(app, client, partners, portal):
    for hours in ("nan", "-1", "x", "1e400"):
        page = client.post(f"/portal/endpoints/{partners.mine.id}/rotate", follow_redirects=True,
                           data={"csrf_token": portal.csrf, "grace_hours": hours})
        assert page.status_code == 200 and "Grace period" in text(page), hours
        assert 'id="endpoint-url"' in text(page)
    assert load_endpoint(app, partners.mine.id).retired_secrets == []


def test_opening_a_link_in_a_staff_browser_ends_the_staff_session(app, client, staff, partners):
    staff("admin")
    assert client.get("/admin/endpoints/").status_code == 200
    link = make_link(app, [partners.mine.id])
    assert open_portal(client, link.token)
    with app.app_context():
        from app.models import StaffSession

        assert db.session.query(StaffSession).one().ended_reason == "opened a partner portal link"
    assert client.get("/admin/endpoints/").status_code == 404
    client.post("/portal/leave", data={"csrf_token": text(client.get("/portal/")).split('name="csrf_token" value="')[1]
                                       .split('"')[0]})
    assert client.get("/admin/endpoints/").status_code == 302  # signed out: to the sign-in page


def test_a_partner_reads_the_catalog_of_the_events_its_endpoints_receive_only(app, client, auth, partners, portal):
    staff_side = app.test_client()  # the portal session reaches nothing outside /portal
    for name, description in (("order.created", "An order was placed"), ("qr.scanned", "A QR code was scanned")):
        put = staff_side.put(f"/api/v1/event-types/{name}", headers=auth, json={
            "description": description, "schema": {"type": "object"}, "example": {"order": 1005}})
        assert put.status_code == 201
    page = text(client.get("/portal/events"))
    assert 'data-event-type="order.created"' in page and "An order was placed" in page
    assert "qr.scanned" not in page  # its endpoint filters order.* only
    assert 'href="/portal/events"' in text(client.get("/portal/"))
    assert "qr.scanned" in text(staff_side.get("/docs/events"))  # the public page still lists every type
