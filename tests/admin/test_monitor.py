import re
from datetime import timedelta

import pytest

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, utcnow
from app.staff.settings import set_setting
from tests.support.factories import load, send, update
from tests.support.receiver import Reply


def rows(html):
    """The delivery ids listed on a monitor page, in order."""
    return re.findall(r'href="/admin/log/(dlv_\w+)\?', html)


def fail(app, delivery_id):
    with app.app_context():
        attempt_delivery(delivery_id)


def tab_counts(html):
    return dict(re.findall(r'data-tab="(\w+)">\s*\w+\s*<span[^>]*data-count>(\d+)</span>', html))


@pytest.fixture
def seeded(app, make_endpoint, receiver):
    """Two endpoints, five deliveries: failed (400, 500), succeeded, pending, cancelled."""
    shop = make_endpoint(name="Shop", event_types=["order.*"])
    other = make_endpoint(name="Other", event_types=["invoice.*"])
    receiver.reply(Reply(400, b"bad"), Reply(200))
    _, (bad,) = send(app, reference="#1001", tags=["QR-AAA1"])
    fail(app, bad)
    _, (ok,) = send(app, reference="#1002", tags=["QR-BBB2"], idempotency_key="order-1002")
    fail(app, ok)
    _, (waiting,) = send(app, reference="#1003")
    _, (invoice,) = send(app, "invoice.paid", reference="INV-9")
    with app.app_context():
        from app.delivery.operations.deliveries import cancel_delivery

        cancel_delivery(waiting)
    _, (pending,) = send(app, "invoice.paid", reference="INV-10")
    update(app, Delivery, invoice, status=DeliveryStatus.FAILED, last_response_status=503,
           last_error_class=None, last_error="HTTP 503")
    return dict(shop=shop.id, other=other.id, bad=bad, ok=ok, cancelled=waiting, invoice=invoice, pending=pending)


def test_monitor_lists_newest_first_with_tab_counts(client, staff, seeded):
    staff("viewer")
    html = client.get("/admin/").get_data(as_text=True)
    assert rows(html) == [seeded[k] for k in ("pending", "invoice", "cancelled", "ok", "bad")]
    assert tab_counts(html) == {"all": "5", "failed": "2", "pending": "1", "succeeded": "1", "cancelled": "1",
                                "resolved": "0", "scheduled": "0"}
    assert "#1001" in html and "QR-AAA1" in html and "Shop" in html
    # The error column: the HTTP status, and the last error (short, the whole text when opened).
    assert re.search(r'data-http>400</td>\s*<td data-label="Last error" class="col-error">\s*<details class="error">'
                     r'<summary[^>]*><span class="badge badge-danger">http</span> '
                     r'<span class="error-text">HTTP 400 Bad Request</span>', html)


@pytest.mark.parametrize(("query", "expected"), [
    ({"status": "failed"}, ["invoice", "bad"]),
    ({"status": "succeeded"}, ["ok"]),
    ({"endpoint_id": "{other}"}, ["pending", "invoice"]),
    ({"event_type": "invoice.paid"}, ["pending", "invoice"]),
    ({"http_status": "400"}, ["bad"]),
    ({"http_status": "5xx"}, ["invoice"]),
    ({"http_status": "2xx"}, ["ok"]),
    ({"error_class": "http"}, ["bad"]),
    ({"q": "#1002"}, ["ok"]),
    ({"q": "#100"}, ["cancelled", "ok", "bad"]),  # prefix
    ({"q": "QR-AAA"}, ["bad"]),
    ({"q": "order-10"}, ["ok"]),
    ({"q": "INV-1"}, ["pending"]),
    ({"q": "nothing-like-this"}, []),
    ({"created_from": "{today}", "created_to": "{today}"}, ["pending", "invoice", "cancelled", "ok", "bad"]),
    ({"created_to": "{yesterday}"}, []),
])
def test_filters_and_search(client, staff, seeded, query, expected):
    staff("viewer")
    today = utcnow().date()
    values = {k: v.format(today=today, yesterday=today - timedelta(days=1), **seeded) for k, v in query.items()}
    html = client.get("/admin/", query_string=values).get_data(as_text=True)
    assert rows(html) == [seeded[k] for k in expected]


def test_message_id_prefix_search_finds_its_deliveries(app, client, staff, seeded):
    staff("viewer")
    message_id = load(app, seeded["bad"]).message_id
    html = client.get("/admin/", query_string={"q": message_id[:20]}).get_data(as_text=True)
    assert seeded["bad"] in rows(html)


def test_counts_follow_the_filter_but_not_the_status(client, staff, seeded):
    staff("viewer")
    html = client.get("/admin/", query_string={"status": "failed", "endpoint_id": seeded["shop"]}).get_data(
        as_text=True)
    assert tab_counts(html) == {"all": "3", "failed": "1", "pending": "0", "succeeded": "1", "cancelled": "1",
                                "resolved": "0", "scheduled": "0"}
    assert f'endpoint_id={seeded["shop"]}' in html  # tabs keep the other filters


def test_a_bad_filter_is_reported_and_ignored(client, staff, seeded):
    staff("viewer")
    response = client.get("/admin/", query_string={"status": "lost"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Filter ignored: status must be one of" in html and len(rows(html)) == 5


def test_pages_keep_their_filters(client, staff, seeded):
    staff("viewer")
    html = client.get("/admin/", query_string={"event_type": "order.created", "page_size": 20}).get_data(as_text=True)
    assert "event_type=order.created" in html


def test_retry_button_retries_and_is_audited(app, client, staff, seeded, receiver):
    token = staff("operator")
    response = client.post(f"/admin/retry/{seeded['bad']}", data={"csrf_token": token, "url": "/admin/?status=failed"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/?status=failed"
    delivery = load(app, seeded["bad"])
    assert delivery.status is DeliveryStatus.PENDING and delivery.next_trigger.value == "manual"
    assert delivery.next_triggered_by == "operator@example.com"
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="delivery.retry").one()
        assert (entry.actor, entry.target_ids, entry.ip) == ("operator@example.com", [seeded["bad"]], "127.0.0.1")
    assert "Retried 1 delivery." in client.get("/admin/").get_data(as_text=True)


def test_open_redirects_are_refused(client, staff, seeded):
    token = staff("operator")
    response = client.post(f"/admin/retry/{seeded['bad']}", data={"csrf_token": token, "url": "https://evil.example"})
    assert response.headers["Location"] == "/admin/"


def test_cancel_button_cancels_a_pending_delivery(app, client, staff, seeded):
    token = staff("operator")
    client.post(f"/admin/cancel/{seeded['pending']}", data={"csrf_token": token})
    assert load(app, seeded["pending"]).status is DeliveryStatus.CANCELLED
    client.post(f"/admin/cancel/{seeded['ok']}", data={"csrf_token": token})
    html = client.get("/admin/").get_data(as_text=True)
    assert ("Cancelled 0 deliveries; skipped 1 (1 is succeeded; only pending deliveries, or sending ones whose lease "
            "ran out, can be cancelled).") in html
    assert load(app, seeded["ok"]).status is DeliveryStatus.SUCCEEDED


def test_retry_selected_is_one_audited_bulk_action(app, client, staff, seeded):
    token = staff("operator")
    client.post("/admin/action/", data={"csrf_token": token, "action": "retry",
                                        "rowid": [seeded["bad"], seeded["invoice"], seeded["ok"]]})
    assert load(app, seeded["bad"]).next_trigger.value == "bulk"
    assert load(app, seeded["invoice"]).status is DeliveryStatus.PENDING
    with app.app_context():
        entries = db.session.query(AuditEntry).filter_by(action="deliveries.retry").all()
        assert len(entries) == 1 and sorted(entries[0].target_ids) == sorted([seeded["bad"], seeded["invoice"]])
    html = client.get("/admin/").get_data(as_text=True)
    assert "Retried 2 deliveries; skipped 1 (1 is succeeded" in html


def test_retry_inside_the_cooldown_is_refused_with_a_banner(app, client, staff, seeded):
    token = staff("operator")
    client.post(f"/admin/retry/{seeded['bad']}", data={"csrf_token": token})
    fail(app, seeded["bad"])  # the receiver answers 200 by default: make it fail again by hand
    update(app, Delivery, seeded["bad"], status=DeliveryStatus.FAILED)
    client.post(f"/admin/retry/{seeded['bad']}", data={"csrf_token": token})
    html = client.get("/admin/").get_data(as_text=True)
    assert "retried by hand in the last 5 min (cooldown)" in html and "alert-danger" in html
    assert load(app, seeded["bad"]).status is DeliveryStatus.FAILED


def test_the_hourly_cap_stops_an_operator_with_a_banner(app, client, staff, seeded):
    token = staff("operator")
    with app.app_context():
        set_setting("retry_hourly_cap", 2, actor=Actor("admin@example.com"))
        set_setting("retry_cooldown_seconds", 0, actor=Actor("admin@example.com"))
    for _ in range(2):
        client.post(f"/admin/retry/{seeded['invoice']}", data={"csrf_token": token})
        update(app, Delivery, seeded["invoice"], status=DeliveryStatus.FAILED)
    client.post(f"/admin/retry/{seeded['invoice']}", data={"csrf_token": token})
    html = client.get("/admin/").get_data(as_text=True)
    assert "Retry limit reached: 2 of 2 retry actions used in the last hour" in html
    assert load(app, seeded["invoice"]).status is DeliveryStatus.FAILED


def test_view_log_shows_payload_as_text_and_every_attempt(app, client, staff, make_endpoint, receiver):
    make_endpoint(signing_scheme="shared-secret")
    receiver.reply(Reply(500, b"<b>oops</b>"))
    _, (delivery_id,) = send(app, payload={"note": "<script>alert(1)</script>"})
    fail(app, delivery_id)
    staff("viewer")
    html = client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;oops&lt;/b&gt;" in html and 'data-attempt="1"' in html
    assert "X-Webhook-Secret" in html and "••••••••" in html  # masked, never the secret
    download = client.get(f"/admin/log/{delivery_id}/payload.json")
    assert download.headers["Content-Disposition"].startswith("attachment") and b"<script>" in download.data
    assert client.get("/admin/log/dlv_missing").status_code == 404


def test_refresh_interval_comes_from_settings(app, client, staff):
    staff("viewer")
    with app.app_context():
        set_setting("refresh_seconds", 45, actor=Actor("admin@example.com"))
    html = client.get("/admin/").get_data(as_text=True)
    assert 'data-refresh-seconds="45"' in html and "Auto-refresh every 45 s" in html


def test_a_waiting_delivery_says_why_and_until_when(app, client, staff, make_endpoint):
    from app.models import Endpoint, EndpointState

    shop, paused = make_endpoint(name="Shop"), make_endpoint(name="Paused shop")
    update(app, Endpoint, paused.id, state=EndpointState.PAUSED)
    _, (held_by_breaker, held_by_pause) = send(app)
    _, (overdue, _) = send(app)
    update(app, Delivery, held_by_breaker, held_reason="breaker open",
           next_attempt_at=utcnow() + timedelta(minutes=2))
    update(app, Delivery, overdue, next_attempt_at=utcnow() - timedelta(seconds=28))
    staff("viewer")
    html = client.get("/admin/", query_string={"status": "pending"}).get_data(as_text=True)

    def next_attempt_cell(delivery_id):
        row_html = html[html.index(f'data-id="{delivery_id}"'):]
        row_html = row_html[row_html.index('data-label="Next attempt"'):]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row_html[:row_html.index("</td>")])).strip()

    assert re.fullmatch(r'data-label="Next attempt"> held: breaker open, until \d\d:\d\d:\d\d',
                        next_attempt_cell(held_by_breaker))
    assert next_attempt_cell(held_by_pause).endswith("held: endpoint paused")
    assert next_attempt_cell(overdue).endswith("due now, waiting for a worker")  # never just "28 s ago"
    assert shop
