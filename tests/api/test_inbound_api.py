"""The inbound API: sources (create, list, read, change, delete, rotate) and events (search, read, replay, mark
processed), through the Flask client with a real API key."""

import base64

import pytest

from app.auth.api_keys import create_api_key
from app.credentials.rotation import live_secrets
from app.extensions import db
from app.models import AuditEntry, InboundAttempt, InboundSource, InboundStatus, InboundTrigger, utcnow
from app.staff.settings import set_setting
from tests.inbound.sources_helpers import ADMIN, new_event, new_source


def create(client, auth, **fields):
    response = client.post("/api/v1/inbound-sources", headers=auth, json={"name": "shop", "provider": "shopify",
                                                                         **fields})
    assert response.status_code == 201, response.json
    return response.json


def key_with(app, *scopes):
    with app.app_context():
        _, key = create_api_key("scoped", list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_create_answers_the_url_and_a_generated_secret_once(app, client, auth):
    made = create(client, auth, forward=True, description="Main shop")
    assert {k: made[k] for k in ("name", "provider", "url", "forward", "state", "tolerance_seconds")} == {
        "name": "shop", "provider": "shopify", "url": "/inbound/shop", "forward": True, "state": "enabled",
        "tolerance_seconds": 300}
    assert made["id"].startswith("src_") and made["secret"].startswith("whsec_")
    read = client.get(f"/api/v1/inbound-sources/{made['id']}", headers=auth)
    assert read.status_code == 200 and "secret" not in read.json and made["secret"] not in read.get_data(as_text=True)
    assert [s["name"] for s in client.get("/api/v1/inbound-sources", headers=auth).json["data"]] == ["shop"]
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="inbound_source.create").all()
        assert entry.actor == "api:tests" and made["secret"] not in str(entry.after)


def test_a_given_secret_is_not_echoed(app, client, auth):
    made = create(client, auth, name="payments", provider="stripe", secret="whsec_from_the_dashboard",
                  tolerance_seconds=600)
    assert "secret" not in made and made["tolerance_seconds"] == 600
    with app.app_context():
        assert live_secrets(db.session.get(InboundSource, made["id"])) == ["whsec_from_the_dashboard"]


def test_zoho_options(client, auth):
    made = create(client, auth, name="books", provider="zoho", options={"event_id_field": "data.id"})
    assert made["options"] == {"token_header": "Authorization", "event_id_field": "data.id"}
    assert 12 <= len(made["secret"]) <= 50 and made["secret"].isalnum()


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Shop"}, "name"), ({"name": "a/b"}, "name"), ({"provider": "paypal"}, "provider"),
    ({"secret": "short"}, "secret"), ({"secret": " whsec_padded "}, "secret"), ({"tolerance_seconds": 0},
                                                                                   "tolerance_seconds"),
    ({"forward": "yes"}, "forward"), ({"options": {"token_header": "X-Token"}}, "options"),
    ({"provider": "standard", "secret": "whsec_bm90IGVub3VnaA=="}, "secret"), ({"colour": "red"}, "colour"),
])
def test_bad_sources_are_refused_naming_the_field(app, client, auth, body, field):
    response = client.post("/api/v1/inbound-sources", headers=auth, json={"name": "shop", "provider": "shopify",
                                                                         **body})
    assert response.status_code == 422 and response.json["field"] == field, response.json
    with app.app_context():
        assert db.session.query(InboundSource).count() == 0


def test_names_are_unique(client, auth):
    create(client, auth)
    again = client.post("/api/v1/inbound-sources", headers=auth, json={"name": "shop", "provider": "github"})
    assert again.status_code == 422 and "exists already" in again.json["error"]


def test_patch_changes_settings_and_state(client, auth):
    made = create(client, auth)
    patched = client.patch(f"/api/v1/inbound-sources/{made['id']}", headers=auth,
                           json={"forward": True, "description": "Main", "state": "paused", "state_reason": "move"})
    assert patched.status_code == 200
    assert {k: patched.json[k] for k in ("forward", "description", "state", "state_reason")} == {
        "forward": True, "description": "Main", "state": "paused", "state_reason": "move"}
    for body, field in (({"name": "other"}, "name"), ({"forward": None}, "forward"), ({"state": "off"}, "state")):
        refused = client.patch(f"/api/v1/inbound-sources/{made['id']}", headers=auth, json=body)
        assert (refused.status_code, refused.json["field"]) == (422, field)
    cleared = client.patch(f"/api/v1/inbound-sources/{made['id']}", headers=auth, json={"description": None})
    assert cleared.json["description"] is None and cleared.json["state"] == "paused"
    assert client.patch("/api/v1/inbound-sources/src_nope", headers=auth, json={}).status_code == 404


def test_rotate_like_endpoints(app, client, auth):
    made = create(client, auth)
    rotated = client.post(f"/api/v1/inbound-sources/{made['id']}/rotate-secret", headers=auth,
                          json={"grace_seconds": 3600})
    assert rotated.status_code == 200 and rotated.json["secret"] not in (None, made["secret"])
    pasted = client.post(f"/api/v1/inbound-sources/{made['id']}/rotate-secret", headers=auth,
                         json={"secret": "shpss_new_client_secret", "grace_seconds": 0})
    assert pasted.status_code == 200 and "secret" not in pasted.json
    with app.app_context():
        assert live_secrets(db.session.get(InboundSource, made["id"])) == ["shpss_new_client_secret",
                                                                              made["secret"]]
    too_long = client.post(f"/api/v1/inbound-sources/{made['id']}/rotate-secret", headers=auth,
                           json={"grace_seconds": 8 * 86400})
    assert too_long.status_code == 422


def test_delete_needs_force_while_events_wait(app, client, auth):
    made = create(client, auth)
    new_event(app, made["id"], status=InboundStatus.RECEIVED)
    refused = client.delete(f"/api/v1/inbound-sources/{made['id']}", headers=auth)
    assert refused.status_code == 409 and "waiting" in refused.json["error"]
    assert client.delete(f"/api/v1/inbound-sources/{made['id']}?force=maybe", headers=auth).status_code == 422
    deleted = client.delete(f"/api/v1/inbound-sources/{made['id']}?force=true", headers=auth)
    assert deleted.json == {"id": made["id"], "deleted": True, "events_deleted": 1}
    assert client.get(f"/api/v1/inbound-sources/{made['id']}", headers=auth).status_code == 404


def test_a_key_without_inbound_write_reads_but_changes_nothing(app, client, auth):
    made = create(client, auth)
    event_id = new_event(app, made["id"])
    reader = key_with(app, "read", "endpoints:write", "deliveries:write")
    attempts = [
        client.post("/api/v1/inbound-sources", headers=reader, json={"name": "x", "provider": "github"}),
        client.patch(f"/api/v1/inbound-sources/{made['id']}", headers=reader, json={"forward": True}),
        client.delete(f"/api/v1/inbound-sources/{made['id']}", headers=reader),
        client.post(f"/api/v1/inbound-sources/{made['id']}/rotate-secret", headers=reader, json={}),
        client.post(f"/api/v1/inbound-events/{event_id}/replay", headers=reader),
        client.post(f"/api/v1/inbound-events/{event_id}/mark-processed", headers=reader, json={"note": "x"}),
    ]
    assert [r.status_code for r in attempts] == [403] * 6 and "inbound:write" in attempts[0].json["error"]
    assert client.get("/api/v1/inbound-events", headers=reader).status_code == 200
    assert client.get(f"/api/v1/inbound-events/{event_id}", headers=reader).status_code == 200
    assert client.get("/api/v1/inbound-events").status_code == 401


@pytest.fixture
def events(app):
    shop, _ = new_source(app, "shop")
    stripe, _ = new_source(app, "payments", "stripe")
    return {
        "fulfilled": new_event(app, shop, handles=["1005", "5123"], provider_event_id="b54557e4-bdd9", age_seconds=60),
        "created": new_event(app, shop, topic="orders/create", status=InboundStatus.PROCESSED),
        "charge": new_event(app, stripe, topic="charge.failed", provider_event_id="evt_1NG8Du2e",
                            body=b"\xff\xfe not utf-8", age_seconds=120),
        "shop": shop,
    }


def listed(client, auth, query=""):
    response = client.get(f"/api/v1/inbound-events{query}", headers=auth)
    assert response.status_code == 200, response.json
    return [e["id"] for e in response.json["data"]]


def test_search_events(client, auth, events):
    assert listed(client, auth) == [events["created"], events["fulfilled"], events["charge"]]
    assert listed(client, auth, "?source=shop&status=failed") == [events["fulfilled"]]
    assert listed(client, auth, f"?source={events['shop']}&type=orders/*") == [events["created"], events["fulfilled"]]
    assert listed(client, auth, "?type=charge.failed") == [events["charge"]]
    assert listed(client, auth, "?q=%231005") == listed(client, auth, "?q=b54557") == [events["fulfilled"]]
    assert listed(client, auth, "?q=evt_1NG8") == [events["charge"]]
    page = client.get("/api/v1/inbound-events?per_page=2&page=2", headers=auth).json
    assert (len(page["data"]), page["has_more"], page["page"]) == (1, False, 2)


@pytest.mark.parametrize(("query", "field"), [("status=done", "status"), ("source=", "source"), ("type=", "type"),
                                              ("received_from=yesterday", "received_from"), ("page=0", "page"),
                                              ("q=" + "x" * 201, "q")])
def test_bad_searches_are_refused(client, auth, query, field):
    response = client.get(f"/api/v1/inbound-events?{query}", headers=auth)
    assert (response.status_code, response.json["field"]) == (422, field)


def test_an_event_shows_its_raw_body_masked_headers_and_attempts(app, client, auth, events):
    with app.app_context():
        db.session.add(InboundAttempt(event_id=events["fulfilled"], number=1, trigger=InboundTrigger.RECEIVED,
                                      started_at=utcnow(), ended_at=utcnow(), duration_ms=12,
                                      outcome=InboundStatus.FAILED, error="KeyError: 'line_items'"))
        db.session.commit()
    shown = client.get(f"/api/v1/inbound-events/{events['fulfilled']}", headers=auth).json
    assert (shown["body"], shown["body_encoding"]) == ('{"id": 5123, "order_number": 1005}', "utf-8")
    assert shown["headers"]["X-Shopify-Hmac-Sha256"] == "••••"
    assert [(a["number"], a["trigger"], a["outcome"], a["error"]) for a in shown["attempts"]] == [
        (1, "received", "failed", "KeyError: 'line_items'")]
    binary = client.get(f"/api/v1/inbound-events/{events['charge']}", headers=auth).json
    assert binary["body_encoding"] == "base64" and base64.b64decode(binary["body"]) == b"\xff\xfe not utf-8"
    assert client.get("/api/v1/inbound-events/in_nope", headers=auth).status_code == 404


def test_replay_and_its_limits(app, client, auth, events):
    replayed = client.post(f"/api/v1/inbound-events/{events['fulfilled']}/replay", headers=auth)
    assert replayed.status_code == 202 and (replayed.json["status"], replayed.json["replayed_by"]) == (
        "received", "api:tests")
    again = client.post(f"/api/v1/inbound-events/{events['fulfilled']}/replay", headers=auth)
    assert again.status_code == 409 and "cooldown" in again.json["error"]
    assert client.post("/api/v1/inbound-events/in_nope/replay", headers=auth).status_code == 404
    assert client.post(f"/api/v1/inbound-events/{events['created']}/replay", headers=auth,
                       data="{", content_type="application/json").status_code == 400
    with app.app_context():
        set_setting("retry_hourly_cap", 1, actor=ADMIN)
    capped = client.post(f"/api/v1/inbound-events/{events['created']}/replay", headers=auth)
    assert capped.status_code == 429 and "Retry limit reached" in capped.json["error"]


def test_replay_of_a_paused_source_is_refused(client, auth, events):
    client.patch(f"/api/v1/inbound-sources/{events['shop']}", headers=auth, json={"state": "paused"})
    refused = client.post(f"/api/v1/inbound-events/{events['fulfilled']}/replay", headers=auth)
    assert refused.status_code == 409 and "paused" in refused.json["error"]


def test_mark_processed(app, client, auth, events):
    url = f"/api/v1/inbound-events/{events['fulfilled']}/mark-processed"
    assert client.post(url, headers=auth, json={}).status_code == 422
    assert client.post(url, headers=auth, json={"note": "   "}).status_code == 422
    settled = client.post(url, headers=auth, json={"note": "handled in Shopify"})
    assert settled.status_code == 200 and (settled.json["status"], settled.json["settled_by"],
                                           settled.json["settled_note"]) == ("processed", "api:tests",
                                                                              "handled in Shopify")
    assert client.post(url, headers=auth, json={"note": "again"}).status_code == 409
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="inbound_event.mark_processed").all()
        assert entry.target_ids == [events["fulfilled"]] and entry.after == {"note": "handled in Shopify"}
