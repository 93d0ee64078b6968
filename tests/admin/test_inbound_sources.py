"""The Inbound sources pages: read by staff, changed by admins, secrets shown once, every change audited."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.credentials import crypto
from app.extensions import db
from app.inbound.counts import hour_of
from app.inbound.rejections import record_rejection
from app.models import AuditEntry, InboundCount, InboundSource, SourceState, utcnow
from tests.inbound.sources_helpers import new_source

SHOPIFY_KEY = "shpss_0123456789abcdef0123456789abcdef"


def form(**overrides):
    data = {"name": "shop", "provider": "shopify", "description": "", "secret": SHOPIFY_KEY,
            "secret_again": SHOPIFY_KEY, "tolerance_seconds": "300", "token_header": "", "event_id_field": ""}
    return {**data, **overrides}


def source_row(app, name="shop"):
    with app.app_context():
        source = db.session.scalar(select(InboundSource).where(InboundSource.name == name))
        if source is not None:
            source.plain_secret = crypto.decrypt(source.secret_encrypted)
            db.session.expunge(source)
        return source


def audit_actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def flashed(html):
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_staff_read_sources_but_only_admins_change_them(app, client, staff, role):
    source_id, _ = new_source(app)
    token = staff(role)
    html = client.get("/admin/inbound-sources/").get_data(as_text=True)
    assert 'data-source="shop"' in html and "New source" not in html
    page = client.get(f"/admin/inbound-sources/{source_id}").get_data(as_text=True)
    assert "http://localhost/inbound/shop" in page and 'id="rotate-form"' not in page
    assert client.get("/admin/inbound-sources/new").status_code == 403
    for path, data in (("/admin/inbound-sources/new", form(name="other")),
                       (f"/admin/inbound-sources/{source_id}/rotate", {"grace_hours": "1"}),
                       (f"/admin/inbound-sources/{source_id}/state", {"state": "paused"}),
                       (f"/admin/inbound-sources/{source_id}/forward", {"forward": "on"}),
                       (f"/admin/inbound-sources/{source_id}/settings", {"tolerance_seconds": "60"})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    source = source_row(app)
    assert (source.state, source.forward, source.tolerance_seconds) == (SourceState.ENABLED, False, 300)
    assert source_row(app, "other") is None


def test_a_generated_secret_is_shown_once_and_never_again(app, client, staff):
    token = staff("admin")
    response = client.post("/admin/inbound-sources/new", data={
        **form(name="warranty", provider="standard", secret="", secret_again=""), "csrf_token": token})
    html = response.get_data(as_text=True)
    source = source_row(app, "warranty")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert source.plain_secret.startswith("whsec_") and source.plain_secret in html
    assert "http://localhost/inbound/warranty" in html
    for path in ("/admin/inbound-sources/", f"/admin/inbound-sources/{source.id}", "/admin/audit/"):
        assert source.plain_secret not in client.get(path).get_data(as_text=True), path
    assert audit_actions(app)[-1] == "inbound_source.create"


def test_a_typed_secret_is_kept_and_never_shown(app, client, staff):
    token = staff("admin")
    response = client.post("/admin/inbound-sources/new", data={**form(forward="y"), "csrf_token": token})
    assert response.status_code == 302
    source = source_row(app)
    assert source.plain_secret == SHOPIFY_KEY and source.forward is True
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert SHOPIFY_KEY not in html and "••••cdef" in html and "kept encrypted and never shown" in html


def test_a_secret_typed_differently_twice_creates_nothing(app, client, staff):
    token = staff("admin")
    response = client.post("/admin/inbound-sources/new", data={
        **form(secret_again=SHOPIFY_KEY[:-1]), "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "The two entries of the secret differ; nothing was changed" in html
    assert SHOPIFY_KEY not in html  # not put back into the form
    assert source_row(app) is None and "inbound_source.create" not in audit_actions(app)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": "Shop Front"}, "name must be 1 to 64 lower-case letters"),
    ({"provider": "paypal"}, "Not a valid choice"),
    ({"tolerance_seconds": "abc"}, "Not a valid integer value"),
    ({"tolerance_seconds": "0"}, "tolerance_seconds must be a whole number from 1 to 86400"),
    ({"secret": "short", "secret_again": "short"}, "secret must be 8 to 500 printable characters"),
    ({"token_header": "X-Token"}, "unknown Shopify options: token_header"),
    ({"provider": "stripe", "shops": "a.myshopify.com"}, "a stripe source takes no options"),
    ({"provider": "zoho", "event_id_field": "data..id"}, "options.event_id_field must be a dotted JSON path"),
])
def test_bad_input_shows_the_error_and_creates_nothing(app, client, staff, overrides, message):
    token = staff("admin")
    response = client.post("/admin/inbound-sources/new", data={**form(**overrides), "csrf_token": token})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert source_row(app) is None


def test_a_taken_name_is_refused(app, client, staff):
    new_source(app)
    token = staff("admin")
    response = client.post("/admin/inbound-sources/new", data={**form(), "csrf_token": token})
    assert response.status_code == 422 and "a source named shop exists already" in response.get_data(as_text=True)


def test_a_zoho_source_takes_its_header_and_event_id_field(app, client, staff):
    token = staff("admin")
    client.post("/admin/inbound-sources/new", data={**form(
        name="books", provider="zoho", token_header="X-Zoho-Token", event_id_field="data.event_id",
        secret="zoho-token-4f1c9a7e5b3d2c1a", secret_again="zoho-token-4f1c9a7e5b3d2c1a"), "csrf_token": token})
    source = source_row(app, "books")
    assert source.options == {"token_header": "X-Zoho-Token", "event_id_field": "data.event_id"}
    html = client.get(f"/admin/inbound-sources/{source.id}").get_data(as_text=True)
    assert "X-Zoho-Token" in html and "data.event_id" in html


def test_rotation_needs_the_secret_twice_and_keeps_the_old_one_in_grace(app, client, staff):
    source_id, shown = new_source(app)
    token = staff("admin")
    new = "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"
    response = client.post(f"/admin/inbound-sources/{source_id}/rotate", data={
        "csrf_token": token, "new_secret": new, "new_secret_again": new + "x", "grace_hours": "24"})
    assert "The two entries of the secret differ; nothing was changed" in flashed(
        client.get(response.headers["Location"]).get_data(as_text=True))
    assert source_row(app).plain_secret == shown and "inbound_source.rotate_secret" not in audit_actions(app)

    client.post(f"/admin/inbound-sources/{source_id}/rotate", data={
        "csrf_token": token, "new_secret": new, "new_secret_again": new, "grace_hours": "999"})
    assert source_row(app).plain_secret == shown  # a grace period out of range changes nothing either

    response = client.post(f"/admin/inbound-sources/{source_id}/rotate", data={
        "csrf_token": token, "new_secret": new, "new_secret_again": new, "grace_hours": "2"})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    source = source_row(app)
    assert source.plain_secret == new and len(source.retired_secrets) == 1
    assert new not in html and "old one verifies for 2 h more" in flashed(html)
    assert audit_actions(app)[-1] == "inbound_source.rotate_secret"


def test_a_generated_rotation_is_shown_once(app, client, staff):
    source_id, _ = new_source(app, "hooks", "github")
    token = staff("admin")
    response = client.post(f"/admin/inbound-sources/{source_id}/rotate", data={
        "csrf_token": token, "new_secret": "", "new_secret_again": "", "grace_hours": "1"})
    secret = source_row(app, "hooks").plain_secret
    assert response.headers["Cache-Control"] == "no-store" and secret in response.get_data(as_text=True)
    assert secret not in client.get(f"/admin/inbound-sources/{source_id}").get_data(as_text=True)


def test_pause_disable_and_resume_are_audited_and_shown(app, client, staff):
    source_id, _ = new_source(app)
    token = staff("admin")
    client.post(f"/admin/inbound-sources/{source_id}/state", data={
        "csrf_token": token, "state": "paused", "reason": "Shop migration"})
    html = client.get(f"/admin/inbound-sources/{source_id}").get_data(as_text=True)
    assert 'data-state="paused"' in html and "Shop migration" in html
    assert "not processed until the source is resumed" in html
    client.post(f"/admin/inbound-sources/{source_id}/state", data={"csrf_token": token, "state": "disabled"})
    client.post(f"/admin/inbound-sources/{source_id}/state", data={"csrf_token": token, "state": "gone"})
    assert "state must be enabled, paused or disabled; nothing was changed" in flashed(
        client.get(f"/admin/inbound-sources/{source_id}").get_data(as_text=True))
    assert source_row(app).state is SourceState.DISABLED
    client.post(f"/admin/inbound-sources/{source_id}/state", data={"csrf_token": token, "state": "enabled"})
    assert source_row(app).state is SourceState.ENABLED
    assert audit_actions(app)[-3:] == ["inbound_source.pause", "inbound_source.disable", "inbound_source.resume"]


def test_forwarding_and_settings_change_with_an_audit_entry(app, client, staff):
    source_id, _ = new_source(app, "billing", "stripe")
    token = staff("admin")
    client.post(f"/admin/inbound-sources/{source_id}/forward", data={"csrf_token": token, "forward": "on"})
    assert source_row(app, "billing").forward is True
    client.post(f"/admin/inbound-sources/{source_id}/forward", data={"csrf_token": token, "forward": "maybe"})
    assert source_row(app, "billing").forward is True
    client.post(f"/admin/inbound-sources/{source_id}/settings", data={
        "csrf_token": token, "tolerance_seconds": "600", "description": "Stripe live"})
    source = source_row(app, "billing")
    assert (source.tolerance_seconds, source.description) == (600, "Stripe live")
    client.post(f"/admin/inbound-sources/{source_id}/settings", data={"csrf_token": token, "tolerance_seconds": "-1"})
    assert source_row(app, "billing").tolerance_seconds == 600
    assert audit_actions(app)[-2:] == ["inbound_source.update", "inbound_source.update"]


def test_a_post_without_the_csrf_token_changes_nothing(app, client, staff):
    source_id, _ = new_source(app)
    staff("admin")
    assert client.post(f"/admin/inbound-sources/{source_id}/state", data={"state": "paused"}).status_code == 400
    assert client.post("/admin/inbound-sources/new", data=form(name="other")).status_code == 400
    assert source_row(app).state is SourceState.ENABLED and source_row(app, "other") is None


def test_counters_over_24_hours(app, client, staff):
    new_source(app)
    now = utcnow()
    counted = [(0, "received", 7), (5, "received", 3), (30, "received", 50), (0, "duplicate", 2),
               (0, "processed", 3), (2, "failed", 2), (0, "ignored", 1), (26, "failed", 9),
               (0, "bad_signature", 4), (1, "stale", 1)]
    with app.app_context():
        db.session.add_all(InboundCount(source_name="shop", hour_start=hour_of(now) - timedelta(hours=hours),
                                        kind=kind, count=n) for hours, kind, n in counted)
        db.session.commit()
    staff("viewer")
    html = client.get("/admin/inbound-sources/").get_data(as_text=True)
    figures = dict(re.findall(r'data-figure="(\w+)">(?:<a[^>]*>)?(\d+)', html))
    assert figures == {"received": "10", "processed": "3", "failed": "2", "duplicate": "2", "rejected": "5"}
    assert 'href="/admin/inbound/?source=shop&amp;status=failed"' in html


def test_the_url_to_paste_uses_public_url_when_set(app, client, staff):
    source_id, _ = new_source(app, "billing", "stripe")
    app.config["PUBLIC_URL"] = "https://hooks.example.com"
    staff("viewer")
    html = client.get(f"/admin/inbound-sources/{source_id}").get_data(as_text=True)
    assert '<code id="receiving-url">https://hooks.example.com/inbound/billing</code>' in html
    assert 'data-provider="stripe"' in html and "Signing secret" in html


def test_recent_rejections_are_listed_with_masked_headers(app, client, staff):
    source_id, _ = new_source(app)
    with app.app_context():
        record_rejection("shop", "bad_signature", "no secret matches", {"X-Shopify-Hmac-Sha256": "forged-sig",
                                                                         "X-Shopify-Topic": "orders/create"},
                         b'{"id": 1}', 9, "203.0.113.9")
    staff("viewer")
    html = client.get(f"/admin/inbound-sources/{source_id}").get_data(as_text=True)
    assert 'data-rejection="bad_signature"' in html and "203.0.113.9" in html and "no secret matches" in html
    assert "forged-sig" not in html


def test_an_unknown_source_is_404(client, staff):
    staff("admin")
    assert client.get("/admin/inbound-sources/src_NOPE").status_code == 404


def test_a_generic_source_takes_its_scheme_and_a_shopify_source_its_shops(app, client, staff):
    token = staff("admin")
    scheme = '{"signature_header": "X-Hub-Signature", "algorithm": "sha1", "prefix": "sha1=", "topic_path": "topic"}'
    refused = client.post("/admin/inbound-sources/new", data={**form(
        name="intercom", provider="generic", generic_options='{"algorithm": "md5"}'), "csrf_token": token})
    assert "signature_header must be an HTTP header name" in refused.get_data(as_text=True)
    assert source_row(app, "intercom") is None
    client.post("/admin/inbound-sources/new", data={**form(name="intercom", provider="generic",
                                                           generic_options=scheme), "csrf_token": token})
    source = source_row(app, "intercom")
    assert source.options == {"signature_header": "X-Hub-Signature", "algorithm": "sha1", "encoding": "hex",
                              "prefix": "sha1=", "signed": "body", "topic_path": "topic"}
    html = client.get(f"/admin/inbound-sources/{source.id}").get_data(as_text=True)
    assert "X-Hub-Signature: sha1=&lt;hex HMAC-SHA1 of the body&gt;" in html
    client.post("/admin/inbound-sources/new", data={**form(shops="North.myshopify.com, south.myshopify.com"),
                                                    "csrf_token": token})
    assert source_row(app).options == {"shops": ["north.myshopify.com", "south.myshopify.com"]}
    html = client.get(f"/admin/inbound-sources/{source_row(app).id}").get_data(as_text=True)
    assert "Only these shops are accepted: north.myshopify.com, south.myshopify.com" in html
