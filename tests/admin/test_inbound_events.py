"""The Inbound page: tabs, filters, search, live rows, Replay and Mark processed per row and in bulk, the event page."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest

from app.extensions import db
from app.inbound import actions
from app.models import AuditEntry, InboundAttempt, InboundStatus, InboundTrigger, SourceState, utcnow
from app.staff.settings import set_setting
from tests.inbound.sources_helpers import ADMIN, load_event, new_event, new_source
from tests.support.factories import update


def rows(html):
    """The event ids listed on an Inbound page, in order."""
    return re.findall(r'<tr data-id="(in_\w+)"', html)


def tab_counts(html):
    return dict(re.findall(r'data-tab="(\w+)">\s*\w+\s*<span[^>]*data-count>(\d+)</span>', html))


def flashed(html):
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


@pytest.fixture
def seeded(app):
    """Two sources, six events: failed (two sources), processed, received, ignored, and one a day old."""
    shop, _ = new_source(app, "shop")
    billing, _ = new_source(app, "billing", "stripe")
    ids = dict(
        old=new_event(app, shop, status=InboundStatus.PROCESSED, provider_event_id="wh-old", age_seconds=2 * 86400,
                      topic="orders/create"),
        ignored=new_event(app, shop, status=InboundStatus.IGNORED, provider_event_id="wh-ign", age_seconds=50,
                          topic="products/update"),
        processed=new_event(app, shop, status=InboundStatus.PROCESSED, provider_event_id="wh-ok", age_seconds=40,
                            handles=["1004", "qr-bbb2"]),
        charge=new_event(app, billing, status=InboundStatus.FAILED, provider_event_id="evt_1Charge", age_seconds=30,
                         topic="charge.failed", last_error="KeyError: 'customer'"),
        received=new_event(app, shop, status=InboundStatus.RECEIVED, provider_event_id="wh-new", age_seconds=20),
        failed=new_event(app, shop, status=InboundStatus.FAILED, provider_event_id="wh-bad", age_seconds=10,
                         handles=["1005", "5123", "qr-aaa1"], last_error="ValueError: unknown sku", attempts=3),
    )
    return dict(shop=shop, billing=billing, **ids)


def test_inbound_page_lists_events_newest_first_with_tab_counts(client, staff, seeded):
    staff("viewer")
    html = client.get("/admin/inbound/").get_data(as_text=True)
    assert rows(html) == [seeded[k] for k in ("failed", "received", "charge", "processed", "ignored", "old")]
    assert tab_counts(html) == {"all": "6", "received": "1", "processing": "0", "processed": "2", "failed": "2",
                                "ignored": "1"}
    assert "ValueError: unknown sku" in html and "qr-aaa1" in html and "charge.failed" in html
    assert 'href="/admin/inbound/"' in html  # the nav entry, beside the sync monitor
    assert "Replay" not in html  # a viewer reads


@pytest.mark.parametrize(("query", "expected"), [
    ({"source": "shop", "status": "failed"}, ["failed"]),  # the link alerts and banners give
    ({"source": "billing"}, ["charge"]),
    ({"status": "processed"}, ["processed", "old"]),
    ({"type": "orders/fulfilled"}, ["failed", "received", "processed"]),
    ({"type": "orders/*"}, ["failed", "received", "processed", "old"]),
    ({"q": "evt_1Charge"}, ["charge"]),  # provider event id
    ({"q": "wh-"}, ["failed", "received", "processed", "ignored", "old"]),  # a prefix of it
    ({"q": "#1005"}, ["failed"]),  # an order number as staff type it
    ({"q": "QR-AAA1"}, ["failed"]),  # a QR code, whatever the case
    ({"q": "5123"}, ["failed"]),  # a Shopify id
    ({"q": "nothing-like-this"}, []),
    ({"received_from": "{today}", "received_to": "{today}"}, ["failed", "received", "charge", "processed",
                                                              "ignored"]),
    ({"received_to": "{two_days_ago}"}, ["old"]),
])
def test_filters_and_search(client, staff, seeded, query, expected):
    staff("viewer")
    days = {"today": utcnow().date().isoformat(), "two_days_ago": (utcnow() - timedelta(days=2)).date().isoformat()}
    query = {k: v.format(**days) for k, v in query.items()}
    html = client.get("/admin/inbound/", query_string=query).get_data(as_text=True)
    assert rows(html) == [seeded[k] for k in expected]


def test_the_failed_link_of_a_source_keeps_its_filter_in_the_tabs_and_counts(client, staff, seeded):
    staff("viewer")
    html = client.get("/admin/inbound/?source=shop&status=failed").get_data(as_text=True)
    assert tab_counts(html)["all"] == "5" and tab_counts(html)["failed"] == "1"
    assert 'href="/admin/inbound/?source=shop&amp;status=processed"' in html
    assert re.search(r'<option value="shop" selected>', html)


def test_a_bad_filter_is_reported_and_ignored(client, staff, seeded):
    staff("viewer")
    response = client.get("/admin/inbound/?status=lost&received_from=yesterday")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Filter ignored: status must be one of" in html
    assert len(rows(html)) == 6


def test_live_rows_fragment_carries_rows_tabs_and_pager(client, staff, seeded):
    staff("viewer")
    html = client.get("/admin/inbound/rows?status=failed").get_data(as_text=True)
    assert rows(html) == [seeded["failed"], seeded["charge"]]
    assert 'id="status-tabs" hx-swap-oob="true"' in html and 'id="hy-pager"' in html
    assert "<html" not in html


def test_a_viewer_cannot_replay_or_settle(app, client, staff, seeded):
    token = staff("viewer")
    for path, data in ((f"/admin/inbound/replay/{seeded['failed']}", {}),
                       (f"/admin/inbound/mark-processed/{seeded['failed']}", {"note": "done"}),
                       ("/admin/inbound/action/", {"action": "replay", "rowid": seeded["failed"]})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert load_event(app, seeded["failed"]).status is InboundStatus.FAILED


def test_a_post_without_the_csrf_token_changes_nothing(app, client, staff, seeded):
    staff("operator")
    assert client.post(f"/admin/inbound/replay/{seeded['failed']}").status_code == 400
    assert load_event(app, seeded["failed"]).status is InboundStatus.FAILED


def test_replay_from_a_row_answers_with_the_row_polling_until_processed(app, client, staff, seeded):
    token = staff("operator")
    html = client.get("/admin/inbound/").get_data(as_text=True)
    assert f'action="/admin/inbound/replay/{seeded["failed"]}"' in html
    response = client.post(f"/admin/inbound/replay/{seeded['failed']}", data={"csrf_token": token},
                           headers={"HX-Request": "true"})
    row = response.get_data(as_text=True)
    assert rows(row) == [seeded["failed"]] and "every 1s" in row and "Replayed 1 inbound event." in row
    event = load_event(app, seeded["failed"])
    assert (event.status, event.replayed_by) == (InboundStatus.RECEIVED, "operator@example.com")
    # Once processed, the watched row stops polling and says how it went.
    update(app, type(event), seeded["failed"], status=InboundStatus.PROCESSED, attempts=4)
    row = client.get(f"/admin/inbound/row/{seeded['failed']}?watch=1").get_data(as_text=True)
    assert "every 1s" not in row and 'data-outcome="processed"' in row
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="inbound_event.replay").one()
        assert entry.target_ids == [seeded["failed"]] and entry.actor == "operator@example.com"


def test_a_row_that_cannot_be_replayed_says_why_in_the_words_of_the_rule(app, client, staff, seeded):
    token = staff("operator")
    update(app, type(load_event(app, seeded["old"])), seeded["old"], body=None, body_purged_at=utcnow())
    client.post(f"/admin/inbound/replay/{seeded['failed']}", data={"csrf_token": token})
    html = client.get("/admin/inbound/").get_data(as_text=True)
    with app.app_context():
        purged = actions.replay_refusal(load_event(app, seeded["old"]), SourceState.ENABLED)
    assert purged.startswith("its body was purged")
    for key, reason in (("old", purged), ("failed", "replayed by hand in the last 5 min (cooldown)")):
        row = re.search(rf'<tr data-id="{seeded[key]}".*?</tr>', html, re.S).group(0)
        assert re.search(r'data-action="replay"[^>]* disabled', row), key
        assert (reason[0].upper() + reason[1:]) in row, key


def test_bulk_replay_flashes_what_it_did_and_why_it_skipped_the_rest(app, client, staff, seeded):
    token = staff("operator")
    update(app, type(load_event(app, seeded["received"])), seeded["received"], status=InboundStatus.PROCESSING)
    with app.app_context():
        from app.inbound.sources import get_source

        get_source(seeded["billing"]).state = SourceState.PAUSED
        db.session.commit()
    chosen = [seeded[k] for k in ("failed", "received", "charge", "ignored")]
    response = client.post("/admin/inbound/action/", data={
        "csrf_token": token, "action": "replay", "rowid": chosen, "url": "/admin/inbound/?status=failed"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/inbound/?status=failed"
    html = flashed(client.get("/admin/inbound/").get_data(as_text=True))
    assert "Replayed 2 inbound events; skipped 2 (1 is processing; an event being processed cannot be replayed; " \
           "1 its source is paused; resume it first)." in html
    assert load_event(app, seeded["ignored"]).status is InboundStatus.RECEIVED
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="inbound_events.replay").count() == 1


def test_bulk_replay_is_refused_over_the_hourly_cap(app, client, staff, seeded):
    token = staff("operator")
    with app.app_context():
        set_setting("retry_hourly_cap", 1, actor=ADMIN)
    client.post("/admin/inbound/action/", data={"csrf_token": token, "action": "replay", "rowid": seeded["failed"]})
    client.post("/admin/inbound/action/", data={"csrf_token": token, "action": "replay", "rowid": seeded["charge"]})
    html = client.get("/admin/inbound/").get_data(as_text=True)
    assert "retry" in flashed(html).lower() and load_event(app, seeded["charge"]).status is InboundStatus.FAILED
    assert "Hourly retry cap reached" in html  # the row buttons say why they are disabled


def test_mark_processed_needs_a_note_and_settles_failed_or_ignored_only(app, client, staff, seeded):
    token = staff("operator")
    client.post(f"/admin/inbound/mark-processed/{seeded['failed']}", data={"csrf_token": token, "note": "  "})
    assert "note of 1 to 1000 characters; nothing was changed" in flashed(client.get("/admin/inbound/").get_data(
        as_text=True))
    assert load_event(app, seeded["failed"]).status is InboundStatus.FAILED

    client.post("/admin/inbound/action/", data={"csrf_token": token, "action": "mark_processed",
                                                 "rowid": [seeded["failed"], seeded["ignored"], seeded["processed"]],
                                                 "note": "fulfilled by hand in Shopify"})
    assert "Marked processed 2 inbound events; skipped 1 (1 is processed; only failed or ignored events can be " \
           "marked processed)." in flashed(client.get("/admin/inbound/").get_data(as_text=True))
    event = load_event(app, seeded["failed"])
    assert (event.status, event.settled_by, event.settled_note) == (
        InboundStatus.PROCESSED, "operator@example.com", "fulfilled by hand in Shopify")
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="inbound_events.mark_processed").one()
        assert entry.after == {"note": "fulfilled by hand in Shopify"}


def test_mark_processed_from_a_row_answers_with_the_row(client, staff, seeded):
    token = staff("operator")
    html = client.get("/admin/inbound/").get_data(as_text=True)
    assert f'hx-post="/admin/inbound/mark-processed/{seeded["failed"]}"' in html
    row = client.post(f"/admin/inbound/mark-processed/{seeded['failed']}", data={"csrf_token": token, "note": "ok"},
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-status="processed"' in row and "data-settled" in row


def test_bulk_action_without_rows_or_with_an_unknown_action_changes_nothing(app, client, staff, seeded):
    token = staff("operator")
    client.post("/admin/inbound/action/", data={"csrf_token": token, "action": "replay"})
    assert "Select at least one event" in flashed(client.get("/admin/inbound/").get_data(as_text=True))
    client.post("/admin/inbound/action/", data={"csrf_token": token, "action": "delete", "rowid": seeded["failed"]})
    assert "Unknown action" in flashed(client.get("/admin/inbound/").get_data(as_text=True))
    assert load_event(app, seeded["failed"]).status is InboundStatus.FAILED


def test_event_page_shows_body_headers_attempts_duplicates_and_forwarding(app, client, staff, seeded):
    staff("viewer")
    with app.app_context():
        db.session.add_all([
            InboundAttempt(event_id=seeded["failed"], number=n, trigger=InboundTrigger.RECEIVED if n == 1
                           else InboundTrigger.RETRY, outcome=InboundStatus.FAILED, duration_ms=12,
                           error=f"ValueError: unknown sku (try {n})") for n in (1, 2)])
        db.session.commit()
    update(app, type(load_event(app, seeded["failed"])), seeded["failed"], duplicate_count=3,
           forwarded_message_id="msg_01FORWARDED", headers={"X-Shopify-Topic": "orders/fulfilled",
                                                            "X-Shopify-Hmac-Sha256": "••••",
                                                            "X-Api-Key": "leaked-before-masking"})
    html = client.get(f"/admin/inbound/event/{seeded['failed']}").get_data(as_text=True)
    assert '"order_number": 1005' in unescape(html)  # indented JSON
    assert "ValueError: unknown sku (try 2)" in html and html.index("try 2") < html.index("try 1")
    assert re.search(r'id="duplicates">3', html)
    assert 'href="/admin/messages/details/?id=msg_01FORWARDED"' in html
    assert "orders/fulfilled" in html and "leaked-before-masking" not in html
    assert "body-truncated" not in html and "body-purged" not in html
    assert "Replay" not in html  # a viewer


def test_event_page_shows_a_failed_attempts_handler_traceback_escaped_in_a_details_element(app, client, staff,
                                                                                           seeded):
    trace = ('Traceback (most recent call last):\n  File "handlers.py", line 9, in register_warranty\n'
             '    raise ValueError(sku)\nValueError: <script>alert("sku")</script>\n')
    with app.app_context():
        db.session.add_all([
            InboundAttempt(event_id=seeded["failed"], number=1, outcome=InboundStatus.FAILED, error="KeyError: 'x'"),
            InboundAttempt(event_id=seeded["failed"], number=2, trigger=InboundTrigger.RETRY,
                           outcome=InboundStatus.FAILED, error="ValueError: bad sku", traceback=trace)])
        db.session.commit()
    staff("viewer")
    html = client.get(f"/admin/inbound/event/{seeded['failed']}").get_data(as_text=True)
    attempt_2 = html[html.index('id="attempt-2"'):html.index('id="attempt-1"')]
    shown = re.search(r'<details class="small" data-traceback><summary>Handler traceback</summary>\s*'
                      r'<pre class="payload small mb-0">(.*?)</pre></details>', attempt_2, re.S)
    assert shown and unescape(shown.group(1)) == trace
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;sku&#34;)&lt;/script&gt;" in shown.group(1)
    assert "data-traceback" not in html[html.index('id="attempt-1"'):]  # an attempt without one shows none


def test_a_large_body_shows_a_4_kb_preview_and_downloads_whole(app, client, staff, seeded):
    staff("viewer")
    body = json.dumps({"line_items": [{"sku": f"SKU-{n:05}", "qty": n} for n in range(400)]}).encode()
    big = new_event(app, seeded["shop"], body=body)
    html = client.get(f"/admin/inbound/event/{big}").get_data(as_text=True)
    assert "Showing the first 4 KB of" in html and "SKU-00399" not in html and "SKU-00001" in html
    download = client.get(f"/admin/inbound/event/{big}/body")
    assert download.data == body and download.headers["Content-Type"] == "application/octet-stream"
    assert f'filename="{big}.json"' in download.headers["Content-Disposition"]


def test_a_body_that_is_not_json_is_shown_escaped_and_downloaded_as_sent(app, client, staff, seeded):
    staff("viewer")
    body = b"a=1&b=<script>\xff\x00"
    odd = new_event(app, seeded["shop"], body=body)
    html = client.get(f"/admin/inbound/event/{odd}").get_data(as_text=True)
    assert "a=1&amp;b=&lt;script&gt;\\xff\\x00" in html
    download = client.get(f"/admin/inbound/event/{odd}/body")
    assert download.data == body and "json" in download.headers["Content-Disposition"]  # stored as JSON-typed


def test_a_purged_body_and_a_settle_note_are_shown(app, client, staff, seeded):
    token = staff("operator")
    client.post(f"/admin/inbound/mark-processed/{seeded['failed']}", data={"csrf_token": token, "note": "refunded"})
    update(app, type(load_event(app, seeded["failed"])), seeded["failed"], body=None, body_purged_at=utcnow())
    html = client.get(f"/admin/inbound/event/{seeded['failed']}").get_data(as_text=True)
    assert 'id="body-purged"' in html and "Body purged on" in html
    assert re.search(r'id="settle-note">Marked processed by operator@example.com.*: refunded', html, re.S)
    assert "its body was purged by retention" in html.replace("Its", "its")  # why Replay is disabled
    assert client.get(f"/admin/inbound/event/{seeded['failed']}/body").status_code == 404


def test_an_unknown_event_is_404(client, staff):
    staff("viewer")
    assert client.get("/admin/inbound/event/in_NOPE").status_code == 404
    assert client.get("/admin/inbound/row/in_NOPE").status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client):
    for path in ("/admin/inbound/", "/admin/inbound/event/in_X", "/admin/inbound/rows"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
